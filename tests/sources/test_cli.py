"""`libraries add/list/show/fetch/publish/diff` and `templates lock` through the real CLI, on the JSON envelope.

One team publishes a library to a repository served by `git daemon`; another team, with its own HOME and cache,
adds it to its project file, locks a template, and keeps the locked bytes when the library changes upstream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sources.conftest import GitDaemon, init_bare, write_library
from tests.support.cli import cli_json, run_cli

TEMPLATE = """\
Name: App
RightScripts:
  Boot:
  - acme/base/say-hello@1.0
  - acme/base/Install Tools
  Operational:
  - acme/base/Say Hello@latest
"""


class Team:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {"HOME": str(folder / "home"), "XDG_CACHE_HOME": str(folder / "home" / ".cache")}

    def json(self, *args: str, code: int = 0) -> Any:
        return cli_json(*args, code=code, env=self.env, cwd=self.folder)

    def text(self, *args: str) -> str:
        done = run_cli(*args, env=self.env, cwd=self.folder)
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture
def world(tmp_path: Path, git_daemon: GitDaemon) -> tuple[Team, Team, str]:
    name = f"{tmp_path.name}.git"
    init_bare(git_daemon.root / name)
    publisher = Team(tmp_path / "team-a")
    write_library(publisher.folder / "lib")
    return publisher, Team(tmp_path / "team-b"), git_daemon.url(name)


def test_publish_add_lock_and_keep_the_locked_bytes(world: tuple[Team, Team, str]) -> None:
    publisher, consumer, url = world
    done = publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url)["data"]
    assert done["version"] == "1.0" and done["digest"].startswith("sha256:") and len(done["resolved_ref"]) == 40

    added = consumer.json("libraries", "add", "acme/base", f"{url}@1.0")
    assert added["command"] == "libraries add"
    assert (added["data"]["digest"], added["data"]["transferred"]) == (done["digest"], 4)
    assert (consumer.folder / "stackscripts.yaml").read_text().endswith(
        f"libraries:\n  acme/base:\n    source: {url}\n    ref: \"1.0\"\n")
    listed = consumer.json("libraries", "list")["data"]
    assert listed["libraries"] == [{"name": "acme/base", "source": url, "ref": "1.0", "line": 5}]  # its source line
    shown = consumer.json("libraries", "show", "acme/base")["data"]
    assert shown["scripts"] == ["Say Hello", "Install Tools"] and shown["transferred"] == 0

    (consumer.folder / "servertemplates").mkdir()
    template = consumer.folder / "servertemplates" / "app.yaml"
    template.write_text(TEMPLATE)
    locked = consumer.json("templates", "lock", "servertemplates/app.yaml")["data"]
    assert locked["written"] and locked["lock_file"] == "servertemplates/app.lock.yaml"
    assert sorted(locked["added"]) == ["acme/base/Install Tools", "acme/base/Say Hello@latest",
                                       "acme/base/say-hello@1.0"]
    assert {e["digest"] for e in locked["scripts"]} == {done["digest"]}
    assert {e["requested"] for e in locked["scripts"]} == {"1.0", "latest"}
    again = consumer.json("templates", "lock", "servertemplates/app.yaml")["data"]
    assert not again["written"] and len(again["unchanged"]) == 3

    # upstream publishes 1.1 with a changed script: nothing changes for the consumer until --update
    hello = publisher.folder / "lib" / "say-hello.sh"
    hello.write_text(hello.read_text() + "echo changed\n")
    newer = publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.1", "--to", url)["data"]
    shown = consumer.json("templates", "show", "servertemplates/app.yaml")["data"]
    boot_file = shown["phases"]["Operational"][0]["file"]
    assert done["digest"].removeprefix("sha256:") in boot_file and "echo changed" not in Path(boot_file).read_text()

    diff = consumer.json("libraries", "diff", "acme/base@1.0", "acme/base@1.1")["data"]
    assert (diff["old"], diff["new"]) == (done["digest"], newer["digest"])
    assert diff["scripts"]["changed"][0]["body"].endswith("+echo changed\n")
    assert "+echo changed" in consumer.text("libraries", "diff", "acme/base@1.0", "acme/base@1.1")

    updated = consumer.json("templates", "lock", "servertemplates/app.yaml", "--update", "Say Hello")["data"]
    assert updated["updated"] == ["acme/base/Say Hello@latest"] and len(updated["unchanged"]) == 2
    assert {e["reference"]: e["digest"] for e in updated["scripts"]}["acme/base/Say Hello@latest"] == newer["digest"]
    fetched = consumer.json("libraries", "fetch")["data"]
    assert [(f["name"], f["digest"], f["transferred"]) for f in fetched] == [("acme/base", done["digest"], 0)]


def test_a_drifted_lock_and_unknown_refs_are_exit_2(world: tuple[Team, Team, str]) -> None:
    publisher, consumer, url = world
    publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url)
    unknown = consumer.json("libraries", "add", "acme/base", f"{url}@7.7", code=2)["error"]
    assert unknown["message"].startswith(f"{url}: unknown ref '7.7'")
    assert not (consumer.folder / "stackscripts.yaml").exists()  # nothing written for a source that fails
    consumer.json("libraries", "add", "acme/base", url)
    (consumer.folder / "app.yaml").write_text(TEMPLATE)
    consumer.json("templates", "lock", "app.yaml")
    (consumer.folder / "app.yaml").write_text(TEMPLATE.replace("say-hello@1.0", "say-hello@1.1"))
    error = consumer.json("templates", "validate", "app.yaml", code=2)["error"]
    assert (error["file"], error["line"]) == ("app.yaml", 4)
    assert "acme/base/say-hello@1.1 is not in the lock file app.lock.yaml (the lock pins acme/base/say-hello@1.0" \
        in error["message"]
    missing = consumer.json("templates", "lock", "app.yaml", code=2)["error"]
    assert missing["message"].startswith(f"{url}: unknown ref '1.1'")
    nobody = consumer.json("libraries", "show", "acme/nothing", code=2)["error"]
    assert "unknown library 'acme/nothing' (the project's libraries: acme/base)" in nobody["message"]
    again = publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url,
                           code=2)["error"]
    assert "version 1.0 is already published (tag v1.0)" in again["message"]
    absent = consumer.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "2", "--to", url,
                           code=2)["error"]
    assert absent["message"] == "lib: no such folder. Name the folder that holds the library's scripts."


def test_no_project_file(tmp_path: Path) -> None:
    team = Team(tmp_path / "alone")
    error = team.json("libraries", "list", code=2)["error"]
    assert f"no project file: no stackscripts.yaml in {team.folder}" in error["message"]
    assert "libraries add" in error["message"]


def test_a_moved_version_tag_is_refused_and_the_locked_commit_still_used(world: tuple[Team, Team, str],
                                                                         tmp_path: Path) -> None:
    import shutil
    import subprocess

    publisher, consumer, url = world
    first = publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url)["data"]
    consumer.json("libraries", "add", "acme/base", f"{url}@1.0")
    (consumer.folder / "app.yaml").write_text(TEMPLATE)
    consumer.json("templates", "lock", "app.yaml")
    (publisher.folder / "lib" / "README.md").write_text("replaced\n")
    publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.1", "--to", url)
    work = tmp_path / "mover"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "tag", "-f", "v1.0", "v1.1"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "-f", "origin", "refs/tags/v1.0"], check=True)

    colleague = Team(tmp_path / "team-c")  # the consumer's project, another HOME: an empty cache
    for name in ("stackscripts.yaml", "app.yaml", "app.lock.yaml"):
        shutil.copy(consumer.folder / name, colleague.folder / name)
    shown = colleague.json("templates", "show", "app.yaml")["data"]
    assert first["digest"].removeprefix("sha256:") in shown["phases"]["Boot"][0]["file"]  # the locked commit
    before = (colleague.folder / "app.lock.yaml").read_text()
    error = colleague.json("templates", "lock", "app.yaml", "--update", code=2)["error"]
    assert error["file"] == "app.lock.yaml" and error["message"].startswith(
        f"app.lock.yaml:{error['line']}: {url}: digest mismatch for version 1.0 of acme/base: the lock pins "
        f"{first['digest']}")
    assert (colleague.folder / "app.lock.yaml").read_text() == before


def test_a_namespace_that_requires_signatures(world: tuple[Team, Team, str]) -> None:
    """The publisher signs with --sign-key; the consumer's project file trusts its key for namespace acme, so a
    signed version fetches and an unsigned one is refused (exit 2, one paragraph naming the source)."""
    from tests.sources.test_signing import keypair

    publisher, consumer, url = world
    key, public = keypair(publisher.folder, "acme-release")
    signed = publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.0", "--to", url,
                            "--sign-key", str(key))["data"]
    assert signed["signed"] is True
    (publisher.folder / "lib" / "README.md").write_text("an unsigned change\n")
    publisher.json("libraries", "publish", "lib", "--as", "acme/base", "--version", "1.1", "--to", url)
    (consumer.folder / "keys").mkdir()
    (consumer.folder / "keys" / "acme.allowed").write_text(f"acme {public}\n")
    (consumer.folder / "stackscripts.yaml").write_text(
        f"libraries:\n  acme/base: {url}@1.0\ntrust:\n  acme:\n    allowed signers: keys/acme.allowed\n")
    fetched = consumer.json("libraries", "fetch")["data"][0]
    assert (fetched["digest"], fetched["signed"]) == (signed["digest"], True)
    assert "signature verified" in consumer.text("libraries", "show", "acme/base")

    (consumer.folder / "stackscripts.yaml").write_text(
        f"libraries:\n  acme/base: {url}@1.1\ntrust:\n  acme:\n    allowed signers: keys/acme.allowed\n")
    refused = consumer.json("libraries", "fetch", code=2)
    assert refused["error"]["message"].startswith(f"{url}: the library is not signed, and namespace 'acme' requires")
    done = run_cli("libraries", "fetch", env=consumer.env, cwd=consumer.folder)
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_bad_trust_rule_names_the_line(world: tuple[Team, Team, str]) -> None:
    _, consumer, url = world
    (consumer.folder / "stackscripts.yaml").write_text(
        f"libraries:\n  acme/base: {url}\ntrust:\n  acme:\n    allowed signers: keys/acme.allowed\n    required: yes please\n")
    refused = consumer.json("libraries", "list", code=2)["error"]
    assert refused["file"].endswith("stackscripts.yaml") and refused["line"] == 6
    assert "'required' must be true or false" in refused["message"]
