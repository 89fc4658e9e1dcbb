"""`servers show NAME` as text: the SSH address, private and public IPs, the key, the cloud and node id.

Records are written to a real store file (as `servers add` and a launch write them), then shown by the real CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.store.base import ServerRecord
from stackscripts.store.sqlite import SQLiteStore
from tests.support.cli import cli_json, no_traceback, run_cli

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlTxkFm1w0pJbp4Y5vAq3C1mR8r0VbHn3aUuQ2gZ7sE"


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "audit.db"
    key = tmp_path / "keys" / "app1.key"
    key.parent.mkdir()
    key.write_text("not read by show\n")
    with SQLiteStore(path) as store:
        store.put_server(ServerRecord(
            "app1", host="54.210.1.20", port=22, user="admin", key_path=str(key), host_key=HOST_KEY,
            state="operational", template="/srv/templates/app.yaml", template_sha256="ab12cd34ef56" + "0" * 52,
            inputs={"APP_PORT": "text:8080", "DB_PASSWORD": "cred:DB_PASSWORD"}, cloud="ec2",
            node_id="i-0a1b2c3d4e5f60718", deployment="shop",
            extra={"private_ip": "172.31.5.9", "public_ip": "54.210.1.20", "zone": "us-east-1a"},
        ))  # fmt: skip
    return str(path)


def show(db: str, name: str) -> dict[str, str]:
    done = run_cli("servers", "show", name, "--db", db)
    assert done.returncode == 0, done.stderr
    no_traceback(done.stdout + done.stderr)
    fields = {}
    for line in done.stdout.splitlines()[1:]:
        label, _, value = line.strip().partition("  ")
        fields[label] = value.strip()
    return fields


def test_a_launched_server_shows_where_it_runs_and_how_to_reach_it(db: str, tmp_path: Path) -> None:
    fields = show(db, "app1")
    assert fields["address"] == "admin@54.210.1.20:22"
    assert fields["private IP"] == "172.31.5.9" and fields["public IP"] == "54.210.1.20"
    assert fields["key"] == str(tmp_path / "keys" / "app1.key")
    assert fields["cloud"] == "ec2" and fields["node id"] == "i-0a1b2c3d4e5f60718"
    assert fields["deployment"] == "shop"
    assert fields["template"] == "/srv/templates/app.yaml (sha256 ab12cd34ef56)"
    assert fields["host key"] == HOST_KEY
    text = run_cli("servers", "show", "app1", "--db", db).stdout
    assert text.splitlines()[0] == "app1  state: operational"
    assert "  APP_PORT = text:8080" in text and "  DB_PASSWORD = cred:DB_PASSWORD" in text
    assert cli_json("servers", "show", "app1", "--db", db)["data"]["node_id"] == "i-0a1b2c3d4e5f60718"


def test_a_server_added_by_hand_says_it_has_no_cloud(db: str) -> None:
    added = run_cli("servers", "add", "old1", "--host", "ops@10.1.2.3", "--port", "2222", "--db", db)
    assert added.returncode == 0, added.stderr
    fields = show(db, "old1")
    assert fields["address"] == "ops@10.1.2.3:2222"
    assert "private IP" not in fields and "public IP" not in fields
    assert fields["key"] == "- (your SSH agent and keys)"
    assert fields["cloud"] == "- (added by hand)" and fields["node id"] == "-"
    assert fields["host key"] == "not yet recorded"
