"""`templates commit` and `revisions list | show | diff` through the real CLI: the JSON envelope, the text, and
bad input (a mutable source without --commit-heads, an unknown revision, a tampered store) as exit 2 with the
store unchanged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.rightscripts import write_rightscript


@pytest.fixture
def world(tmp_path: Path) -> Path:
    write_rightscript(tmp_path / "scripts", "Install", "echo install\n", inputs={"PORT": "text:80"},
                      attachments={"app.conf": "port=80\n"})
    write_rightscript(tmp_path / "scripts", "Status", "echo ok\n")
    (tmp_path / "app.yaml").write_text("Name: App\nRightScripts:\n  Boot:\n  - scripts/install.sh\n"
                                       "  Operational:\n  - scripts/status.sh\n")
    return tmp_path


def cli(world: Path, *args: str, code: int = 0) -> dict:
    return cli_json(*args, "--db", str(world / "audit.db"), code=code, cwd=world,
                    env={"STACKSCRIPTS_CACHE": str(world / "cache")})


def counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as raw:
        return tuple(raw.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("revisions", "blobs"))


def test_commit_refuses_a_mutable_source_without_commit_heads(world: Path) -> None:
    refused = cli(world, "templates", "commit", "app.yaml", "-m", "first", code=2)["error"]
    assert refused["type"] == "BadInput" and refused["file"] == "app.yaml" and refused["line"] == 4
    assert "Boot step 'scripts/install.sh' is a script file in a folder, a mutable source" in refused["message"]
    assert "1 more step(s) too" in refused["message"] and "--commit-heads" in refused["message"]
    assert counts(world / "audit.db") == (0, 0)
    text = run_cli("templates", "commit", "app.yaml", "-m", "first", "--db", str(world / "audit.db"), cwd=world)
    assert text.returncode == 2 and text.stdout == "" and len(text.stderr.splitlines()) == 1
    no_traceback(text.stderr)
    assert cli(world, "templates", "commit", "app.yaml", "-m", " ", "--commit-heads", code=2)["error"]["message"] \
        .startswith("a commit needs a message")


def test_commit_list_show_and_diff(world: Path) -> None:
    kept = cli(world, "templates", "commit", "app.yaml", "-m", "first", "--commit-heads")["data"]
    digest = kept["revision"]
    assert digest.startswith("sha256:") and kept["new"] is True and kept["files"] == 4
    assert (kept["template"], kept["message"], kept["source"]) == ("App", "first", str(world / "app.yaml"))
    again = run_cli("templates", "commit", "app.yaml", "-m", "again", "--commit-heads", "--db", str(world / "audit.db"),
                    cwd=world, env={"STACKSCRIPTS_CACHE": str(world / "cache")})
    assert again.returncode == 0 and again.stdout == digest + "\n" and "already kept" in again.stderr
    assert counts(world / "audit.db") == (1, 4)

    (world / "scripts" / "status.sh").write_text((world / "scripts" / "status.sh").read_text().replace("ok", "fine"))
    second = cli(world, "templates", "commit", "app.yaml", "-m", "second", "--commit-heads")["data"]["revision"]
    assert counts(world / "audit.db") == (2, 5)  # only the changed script is a new blob

    listed = cli(world, "revisions", "list")["data"]
    assert [(r["revision"], r["message"]) for r in listed] == [(second, "second"), (digest, "first")]
    assert [r["revision"] for r in cli(world, "revisions", "list", "app.yaml")["data"]] == [second, digest]
    assert cli(world, "revisions", "list", "Other")["data"] == []

    shown = cli(world, "revisions", "show", digest[7:15])["data"]
    assert shown["revision"] == digest and shown["phases"] == {"Boot": ["Install"], "Operational": ["Status"]}
    assert [m["path"] for m in shown["manifest"]] == ["scripts/install/attachments/app.conf",
                                                      "scripts/install/install.sh", "scripts/status/status.sh",
                                                      "template.yaml"]
    assert shown["servers"] == []

    diff = cli(world, "revisions", "diff", digest, second)["data"]
    assert (diff["old"], diff["new"], diff["empty"]) == (digest, second, False)
    (changed,) = diff["scripts"]["changed"]
    assert changed["name"] == "Status" and "-echo ok\n+echo fine\n" in changed["body"]
    assert cli(world, "revisions", "diff", second, "app.yaml")["data"]["empty"] is True  # the file as it is now
    text = run_cli("revisions", "diff", digest[:12], second[:12], "--db", str(world / "audit.db"), cwd=world).stdout
    assert text.startswith(f"diff {digest} {second}\n") and "  ~ Status (scripts/status/status.sh)" in text


def test_unknown_and_tampered_revisions_are_bad_input(world: Path) -> None:
    digest = cli(world, "templates", "commit", "app.yaml", "-m", "first", "--commit-heads")["data"]["revision"]
    unknown = cli(world, "revisions", "show", "sha256:" + "e" * 64, code=2)["error"]
    assert unknown["type"] == "NotFound" and "unknown revision" in unknown["message"]
    assert "not a revision" in cli(world, "revisions", "diff", "nope", digest, code=2)["error"]["message"]

    with sqlite3.connect(world / "audit.db") as raw:
        assert raw.execute("UPDATE blobs SET data = CAST('echo pwned' AS BLOB) "
                           "WHERE instr(data, CAST('echo ok' AS BLOB)) > 0").rowcount == 1
    tampered = cli(world, "revisions", "show", digest, code=2)["error"]
    assert tampered["type"] == "BadInput" and "was changed: its bytes hash to" in tampered["message"]
    assert not (world / "cache" / "trees" / "sha256" / digest[7:]).exists()
