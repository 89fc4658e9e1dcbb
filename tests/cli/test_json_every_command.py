"""`--json` is a versioned envelope with nothing else on stdout, for every command of the CLI.

The commands are listed from the click group itself: a command added without a case here fails the test.
Each case runs the real CLI (a fresh process) in a world with real sshd servers and a real store, and goes
through tests/support/cli.py `cli_json`: the exit code, stdout exactly one JSON document (json.loads refuses
text before or after it), stderr empty, no traceback.

`launch` and `deploy` answer here with their error envelope (an unknown cloud: no instance is made); their
success and failure envelopes on real local instances are checked by tests/e2e (test_flagship.py,
test_launch_faults.py, test_deploy_waves.py), through the same checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import click
import pytest

from stackscripts.cli.main import COMMANDS
from tests.support.cli import cli_json, envelope, run_cli
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import SshdServer, start_many

pytestmark = pytest.mark.timeout(300)


def leaf_commands() -> set[str]:
    """Every command a user can run, as "group sub" or "command", from the CLI's own command group."""
    found = set()
    for name, (module, _) in COMMANDS.items():
        command = import_module(module).command
        if isinstance(command, click.Group):
            found |= {f"{name} {sub}" for sub in command.commands}
        else:
            found.add(name)
    return found


@dataclass
class World:
    folder: Path
    servers: list[SshdServer]
    ran: set[str] = field(default_factory=set)

    @property
    def db(self) -> str:
        return str(self.folder / "audit.db")

    @property
    def template(self) -> str:
        return str(self.folder / "lib" / "template.yaml")

    def json(self, *args: str, code: int = 0, db: bool = True) -> Any:
        """Run one command with --json (and the world's store): the checked envelope."""
        words = " ".join(args[:2]) if args[0] in GROUPS else args[0]
        self.ran.add(words)
        doc = cli_json(*args, *(["--db", self.db] if db else []), code=code,
                       env={"STACKSCRIPTS_CLOUDS": str(self.folder / "clouds.yaml"),
                            "STACKSCRIPTS_KEYS_DIR": str(self.folder / "keys")})
        assert doc["command"] == words, (doc["command"], words)
        return doc


GROUPS = {name for name, (module, _) in COMMANDS.items() if isinstance(import_module(module).command, click.Group)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("json-world")
    lib = folder / "lib"
    write_rightscript(lib, "Boot One", 'echo "booting $STACKSCRIPTS_SERVER"\n[ ! -e "$MARK" ]\n',
                      inputs={"MARK": f"text:{folder}/fail-boot"})
    write_rightscript(lib, "Op Step", "echo operating\n")
    write_rightscript(lib, "Decom Step", "echo decommissioning\n")
    (lib / "template.yaml").write_text("Name: JSON World\nRightScripts:\n  Boot:\n  - boot-one.sh\n"
                                       "  Operational:\n  - op-step.sh\n  Decommission:\n  - decom-step.sh\n")
    write_rightscript(folder / "bare", "Bare", 'echo "$GREETING"\n', inputs={})  # for scaffold
    servers = start_many(3)
    try:
        yield World(folder, servers)
    finally:
        for server in servers:
            server.close()


def test_every_command_answers_with_one_envelope(world: World) -> None:
    lib, template, folder = str(world.folder / "lib"), world.template, world.folder
    world.json("scripts", "list", "--library", lib, db=False)
    assert world.json("scripts", "show", f"{lib}/boot-one.sh", db=False)["data"]["name"] == "Boot One"
    world.json("scripts", "lint", lib, "--no-shellcheck", db=False)
    assert world.json("scripts", "scaffold", str(folder / "bare" / "bare.sh"), "--dry-run", db=False)["data"]["changed"]
    assert [t["name"] for t in world.json("templates", "list", lib, db=False)["data"]] == ["JSON World"]
    world.json("templates", "show", template, db=False)
    assert world.json("templates", "validate", template, db=False)["data"][0]["valid"] is True
    world.json("templates", "inputs", template, db=False)
    world.json("templates", "render", template, "-o", str(folder / "bundles"), db=False)
    world.json("clouds", "list", db=False)
    checked = cli_check_local(world)
    assert checked["command"] == "clouds check"

    for server in world.servers:
        world.json("servers", "add", server.name, "--host", f"{server.user}@{server.host}", "--port",
                   str(server.port), "--key", server.key_path)
    assert [s["name"] for s in world.json("servers", "list")["data"]] == ["web1", "web2", "web3"]
    world.json("servers", "show", "web1")
    assert world.json("ssh", "web1", "hostname")["data"]["exit_code"] == 0
    assert "needs a COMMAND" in world.json("ssh", "web1", code=2)["error"]["message"]

    booted = world.json("boot", "web1", "-t", template)["data"]
    world.json("run", "web1", "Op Step")
    world.json("fleet", "boot", "web2", "-t", template)
    assert world.json("fleet", "run", "Op Step", "web1", "web2")["data"]["ok"] is True
    (folder / "fail-boot").touch()
    failed = world.json("boot", "web3", "-t", template, code=1)["data"]
    (folder / "fail-boot").unlink()
    assert world.json("resume", failed["run_id"])["data"]["state"] == "succeeded"
    world.json("runs", "list")
    world.json("runs", "show", booted["run_id"])
    assert "booting web1" in world.json("runs", "log", booted["run_id"], "1")["data"]["text"]
    world.json("runs", "export", booted["run_id"])
    followed = world.json("runs", "log", booted["run_id"], "1", "--follow")["data"]  # ended: printed, and how
    assert "booting web1" in followed["text"] and followed["exit_code"] == 0
    assert world.json("runs", "prune", "--older-than", "90d", "--dry-run")["data"]["runs"] == 0
    world.json("report", booted["run_id"])
    cli_revisions(world)
    world.json("decommission", "web2")
    s = world.servers[0]
    (folder / "more.csv").write_text(f"name,host,port,user,key\nweb4,{s.host},{s.port},{s.user},{s.key_path}\n")
    assert world.json("servers", "import", str(folder / "more.csv"), "--scan")["data"]["added"] == 1
    world.json("servers", "forget-key", "web1")
    world.json("terminate", "web1")
    world.json("servers", "remove", "web3")

    no_cloud = world.json("launch", template, "--name", "nope", "--cloud", "no-such-cloud", code=2)
    assert "no-such-cloud" in no_cloud["error"]["message"]
    deployment = folder / "deployment.yaml"
    deployment.write_text(f"Name: d\nServers:\n- Name: d1\n  Template: {template}\n")
    assert world.json("deploy", str(deployment), "--cloud", "no-such-cloud", code=2)["error"]["exit_code"] == 2
    assert world.json("deployments", "list")["data"] == {"deployments": []}
    for verb in ("show", "terminate"):
        assert "unknown deployment 'd'" in world.json("deployments", verb, "d", code=2)["error"]["message"]
    # queued work needs the team store on PostgreSQL (tests/workers run these on one): on this SQLite file, exit 2
    for words in (["fleets", "list"], ["fleets", "show", "f1"], ["fleets", "cancel", "f1"], ["workers", "list"],
                  ["worker"]):
        assert "needs the team store on PostgreSQL" in world.json(*words, code=2)["error"]["message"]
    cli_store(world)
    cli_tokens(world)
    assert "is not HOST:PORT" in world.json("serve", "--bind", "nonsense", code=2)["error"]["message"]
    cli_sharing(world)
    assert world.ran == leaf_commands()


def cli_tokens(world: World) -> None:
    """`tokens ...` on the world's SQLite store (tests/store/test_tokens_cli.py checks both backends)."""
    made = world.json("tokens", "create", "--team", "web", "--role", "viewer")["data"]
    assert made["token"].startswith(made["prefix"])
    assert [t["id"] for t in world.json("tokens", "list")["data"]["tokens"]] == [made["id"]]
    assert world.json("tokens", "revoke", made["id"])["data"]["changed"] is True


def cli_check_local(world: World) -> Any:
    """`clouds check local` needs Docker: ok where it runs, a CloudError envelope where it does not."""
    world.ran.add("clouds check")
    done = run_cli("clouds", "check", "local", "--json")
    return envelope(done, done.returncode if done.returncode in (0, 2) else 0)


def cli_sharing(world: World) -> None:
    """`libraries ...` and `templates lock` (tests/sources/test_cli.py checks what they do), in the world's folder."""
    import subprocess

    lib, bare = str(world.folder / "lib"), world.folder / "shared.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    env = {"STACKSCRIPTS_PROJECT": str(world.folder / "stackscripts.yaml"), "XDG_CACHE_HOME": str(world.folder / "c")}
    for args in (("libraries", "publish", lib, "--as", "acme/base", "--version", "1", "--to", f"git+file://{bare}"),
                 ("libraries", "add", "acme/base", f"git+file://{bare}@1"), ("libraries", "list"),
                 ("libraries", "show", "acme/base"), ("libraries", "fetch"), ("libraries", "diff", lib, lib),
                 ("templates", "lock", world.template)):
        world.ran.add(" ".join(args[:2]))
        assert cli_json(*args, env=env)["command"] == " ".join(args[:2])


def cli_store(world: World) -> None:
    """`store ...` on the world's SQLite store (tests/store/test_store_cli.py checks both backends; teams and copy:
    tests/store/test_teams_cli.py, tests/store/test_copy.py): teams are labels here, so add-team, grant and revoke
    answer with their error envelope."""
    assert world.json("store", "status")["data"]["schema_version"] == world.json("store", "init")["data"]["latest_version"]
    assert world.json("store", "migrate")["data"]["applied"] == []
    assert world.json("store", "teams")["data"]["row_level_security"] is False
    for args in (("add-team", "web"), ("grant", "alice", "web"), ("revoke", "alice", "web")):
        assert "a team is only a label" in world.json("store", *args, code=2)["error"]["message"]
    other = str(world.folder / "copy.db")
    cli_json("store", "init", "--db", other)
    copied = world.json("store", "copy", "--from", world.db, "--to", other, db=False)["data"]
    assert copied["counts"]["runs"]["copied"] > 0 and copied["destination"] == other


def cli_revisions(world: World) -> None:
    """`templates commit`, `revisions ...` and `servers upgrade` (tests/cli/test_revisions_cli.py and
    tests/runner/test_pinning.py check what they do), while web1 is operational."""
    revision = world.json("templates", "commit", world.template, "-m", "json", "--commit-heads")["data"]["revision"]
    assert revision in [r["revision"] for r in world.json("revisions", "list")["data"]]
    assert world.json("revisions", "show", revision)["data"]["revision"] == revision
    assert world.json("revisions", "diff", revision, world.template)["data"]["empty"] is True
    assert world.json("servers", "upgrade", "web1", "--to", revision)["data"]["revision"] == revision
