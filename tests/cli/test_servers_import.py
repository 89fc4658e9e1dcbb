"""`servers import FILE`: many existing servers in one command, host keys scanned from real sshd servers, groups
selected with `servers list --group`, re-imports, moved addresses and bad files (nothing written)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.api.servers import host_fingerprint, host_spec
from stackscripts.store.base import ServerRecord
from stackscripts.store.sqlite import SQLiteStore
from stackscripts.transport.ssh import SSHTransport
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.parts import require_binary
from tests.support.sshd import SshdServer, start_many


@pytest.fixture(scope="module")
def sshds() -> Iterator[list[SshdServer]]:
    servers = start_many(3, prefix="imp")
    try:
        yield servers
    finally:
        for server in servers:
            server.close()


def keygen_fingerprint(server: SshdServer) -> str:
    """What `ssh-keygen -lf` says of the server's own host key file: `256 SHA256:... comment (ED25519)`."""
    done = subprocess.run([require_binary("ssh-keygen"), "-lf", str(server.tmpdir / "ssh_host_ed25519_key")],
                          capture_output=True, text=True, check=True)
    return done.stdout.split()[1]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def names(db: Path, *args: str) -> list[str]:
    return [s["name"] for s in cli_json("servers", "list", "--db", str(db), *args)["data"]]


def test_200_servers_from_an_ini_in_one_command_and_listed_by_group(tmp_path: Path) -> None:
    lines = ["[web]", "web[001:150].example.com", "", "[db]"]
    lines += [f"db{i:03d} ansible_host=10.0.{i // 250}.{i % 250 + 1} ansible_port={2200 + i}" for i in range(50)]
    lines += ["", "[prod:children]", "web", "db", "", "[prod:vars]", "ansible_user=deploy"]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("\n".join(lines) + "\n")
    db = tmp_path / "audit.db"
    doc = cli_json("servers", "import", str(inventory), "--db", str(db))["data"]
    assert (doc["added"], doc["unchanged"], doc["updated"], doc["scan_failed"]) == (200, 0, 0, 0)
    assert len(doc["servers"]) == 200
    assert doc["servers"][150] == {"name": "db000", "address": "deploy@10.0.0.1:2200", "groups": ["db", "prod"],
                                   "action": "added", "line": 5, "fingerprint": None, "error": None}
    assert names(db, "--group", "web") == [f"web{i:03d}.example.com" for i in range(1, 151)]
    assert names(db, "--group", "db") == [f"db{i:03d}" for i in range(50)]
    assert len(names(db, "--group", "prod")) == 200
    listed = cli_json("servers", "list", "--group", "db", "--db", str(db))["data"][49]
    assert (listed["host"], listed["port"], listed["user"], listed["extra"]["groups"]) == (
        "10.0.0.50", 2249, "deploy", ["db", "prod"])
    table = run_cli("servers", "list", "--group", "web", "--db", str(db))
    assert table.returncode == 0 and "Groups" in table.stdout.splitlines()[0]
    assert "deploy@web042.example.com:22 │ pending │ -        │ -     │ prod web" in table.stdout
    missing = run_cli("servers", "list", "--group", "cache", "--db", str(db))
    assert missing.returncode == 2
    assert missing.stderr == ("stackscripts: error: no live server in group 'cache'. "
                              "Known groups: db, prod, web.\n")


def test_scan_records_each_host_key_with_its_ssh_keygen_fingerprint(tmp_path: Path, sshds: list[SshdServer]) -> None:
    rows = ["name,host,port,user,key,groups"]
    rows += [f"{s.name},{s.host},{s.port},{s.user},{s.key_path},ssh-test" for s in sshds]
    inventory = tmp_path / "servers.csv"
    inventory.write_text("\n".join(rows) + "\n")
    db = tmp_path / "audit.db"
    done = run_cli("servers", "import", str(inventory), "--scan", "--parallel", "2", "--db", str(db))
    assert done.returncode == 0, done.stderr
    no_traceback(done.stdout + done.stderr)
    for server in sshds:
        row = next(line for line in done.stdout.splitlines() if line.startswith(server.name + " "))
        assert keygen_fingerprint(server) in row and " added " in row
        record = cli_json("servers", "show", server.name, "--db", str(db))["data"]
        assert record["host_key"] == server.host_key_line
    assert done.stdout.splitlines()[-1] == f"3 servers from {inventory}: 3 added, 0 unchanged, 0 updated; " \
                                           "3 host keys recorded"
    again = cli_json("servers", "import", str(inventory), "--scan", "--db", str(db))["data"]
    assert [(s["action"], s["fingerprint"]) for s in again["servers"]] == [
        ("unchanged", keygen_fingerprint(s)) for s in sshds]
    with SQLiteStore(db) as store:  # the recorded key is the one a connection is then checked against
        session = SSHTransport().open(host_spec(store.get_server(sshds[0].name)))
    try:
        assert session.run_command("echo reached").stdout == b"reached\n"
    finally:
        session.close()


def test_an_unreachable_host_is_exit_1_and_the_others_are_recorded(tmp_path: Path, sshds: list[SshdServer]) -> None:
    port = closed_port()
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text("Servers:\n" + "".join(
        f"- {{Name: {s.name}, Host: '{s.user}@{s.host}', Port: {s.port}}}\n" for s in sshds[:2])
        + f"- Name: gone\n  Host: root@127.0.0.1\n  Port: {port}\n")
    db = tmp_path / "audit.db"
    doc = cli_json("servers", "import", str(inventory), "--scan", "--db", str(db), code=1)
    gone = doc["data"]["servers"][2]
    assert (gone["name"], gone["action"], gone["fingerprint"]) == ("gone", "added", None)
    assert gone["error"] == (f"cannot connect to 127.0.0.1:{port}: connection refused. "
                             "It is recorded without a host key.")
    assert doc["error"]["message"].startswith("1 of 3 host keys could not be scanned: gone: cannot connect")
    assert [s["fingerprint"] for s in doc["data"]["servers"][:2]] == [keygen_fingerprint(s) for s in sshds[:2]]
    assert names(db) == ["gone", "imp1", "imp2"]
    assert cli_json("servers", "show", "gone", "--db", str(db))["data"]["host_key"] is None
    text = run_cli("servers", "import", str(inventory), "--scan", "--db", str(db))
    assert text.returncode == 1
    no_traceback(text.stdout + text.stderr)
    assert text.stderr == (f"stackscripts: gone: cannot connect to 127.0.0.1:{port}: connection refused. "
                           "It is recorded without a host key.\n")
    assert "gone   │ root@127.0.0.1:" in text.stdout and "│ unchanged │ scan failed" in text.stdout


def test_reimport_is_unchanged_a_moved_address_needs_update(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web]\nweb1 ansible_host=10.0.0.1\nweb2 ansible_host=10.0.0.2\n")
    db = tmp_path / "audit.db"
    cli_json("servers", "import", str(inventory), "--db", str(db))
    again = cli_json("servers", "import", str(inventory), "--db", str(db))["data"]
    assert (again["added"], again["unchanged"], again["updated"]) == (0, 2, 0)
    with SQLiteStore(db) as store:
        store.update_server("web1", host_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlTxkFm1w0pJbp4Y5vAq3C1mR8r0VbHn3aUuQ2gZ7sE")
    inventory.write_text("[web]\nweb1 ansible_host=10.0.0.9\nweb2 ansible_host=10.0.0.2\n\n[eu]\nweb2\nweb3.example.com\n")
    refused = run_cli("servers", "import", str(inventory), "--db", str(db))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"stackscripts: error: {inventory}:2: server web1 is recorded at root@10.0.0.1:22, the inventory says "
        "root@10.0.0.9:22. Pass --update to change its address (a new host or port forgets its recorded host "
        "key), or give it another name.\n")
    assert names(db) == ["web1", "web2"]  # nothing written: no web3, web2 not in eu
    assert names(db, "--group", "web") == ["web1", "web2"]
    moved = cli_json("servers", "import", str(inventory), "--update", "--db", str(db))["data"]
    assert [(s["name"], s["action"], s["groups"]) for s in moved["servers"]] == [
        ("web1", "updated", ["web"]), ("web2", "updated", ["eu", "web"]), ("web3.example.com", "added", ["eu"])]
    web1 = cli_json("servers", "show", "web1", "--db", str(db))["data"]
    assert (web1["host"], web1["host_key"]) == ("10.0.0.9", None)
    assert names(db, "--group", "eu") == ["web2", "web3.example.com"]


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    ("hosts.ini", "[web]\nweb1 ansible_host=10.0.0.1\nweb2 ansible_host=10.0.0.2 ansible_become=yes\n", 3,
     "unknown key 'ansible_become'"),
    ("hosts.csv", "name,host,port\nweb1,10.0.0.1,22\nweb2,10.0.0.2\n", 3, "this row has 2 columns, the header has 3"),
    ("hosts.yaml", "Servers:\n- Name: web1\n  Host: 10.0.0.1\n- Name: web2\n Host: 10.0.0.2\n", 5, "invalid YAML"),
    ("hosts.yml", "all:\n  hosts:\n    web1: {ansible_host: 10.0.0.1}\n    web_2:\n", 4, "not a host name"),
    ("hosts.ini", "[web]\nweb1 ansible_host=10.0.0.1\nweb2 ansible_host=10.0.0.2 ansible_port=99999\n", 3,
     "99999 is not a TCP port"),
    ("hosts.csv", "name,host,key\nweb1,10.0.0.1,\nweb2,10.0.0.2,keys/missing\n", 3, "SSH key file"),
])
def test_a_bad_file_is_exit_2_with_its_line_and_nothing_is_written(tmp_path: Path, name: str, text: str, line: int,
                                                                  words: str) -> None:
    inventory = tmp_path / name
    inventory.write_text(text)
    db = tmp_path / "audit.db"
    done = run_cli("servers", "import", str(inventory), "--db", str(db))
    assert done.returncode == 2, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    assert done.stderr.startswith(f"stackscripts: error: {inventory}:{line}: ") and words in done.stderr
    assert len(done.stderr.splitlines()) == 1
    error = cli_json("servers", "import", str(inventory), "--db", str(db), code=2)["error"]
    assert (error["file"], error["line"]) == (str(inventory), line)
    assert names(db) == []


def test_parallel_below_1_is_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("web1.example.com\n")
    done = run_cli("servers", "import", str(inventory), "--scan", "--parallel", "0", "--db", str(tmp_path / "a.db"))
    assert done.returncode == 2 and "--parallel 0 must be at least 1" in done.stderr


def test_servers_add_scan_records_the_key_at_once(tmp_path: Path, sshds: list[SshdServer]) -> None:
    server, db = sshds[2], tmp_path / "audit.db"
    done = run_cli("servers", "add", server.name, "--host", f"{server.user}@{server.host}", "--port",
                   str(server.port), "--key", server.key_path, "--scan", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == f"host key ssh-ed25519 {keygen_fingerprint(server)}"
    assert cli_json("servers", "show", server.name, "--db", str(db))["data"]["host_key"] == server.host_key_line
    port = closed_port()
    doc = cli_json("servers", "add", "gone", "--host", "127.0.0.1", "--port", str(port), "--scan", "--db", str(db),
                   code=1)
    assert (doc["data"]["name"], doc["data"]["host_key"], doc["data"]["fingerprint"]) == ("gone", None, None)
    assert doc["error"]["message"] == (f"gone: cannot connect to 127.0.0.1:{port}: connection refused. Check that "
                                       "the host is up and sshd listens on that port. It is recorded without a host key.")


def test_list_by_deployment_leaves_terminated_servers_out(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with SQLiteStore(db) as store:
        for name, deployment, state in (("app1", "shop", "operational"), ("app2", "shop", "terminated"),
                                        ("db1", "shop", "operational"), ("blog1", "blog", "pending")):
            store.put_server(ServerRecord(name, host="10.0.0.1", deployment=deployment, state=state,
                                          extra={"groups": ["db"]} if name == "db1" else {}))
    assert names(db, "--deployment", "shop") == ["app1", "db1"]
    assert names(db, "--deployment", "shop", "--group", "db") == ["db1"]
    assert names(db) == ["app1", "app2", "blog1", "db1"]
    missing = run_cli("servers", "list", "--deployment", "shopp", "--db", str(db))
    assert missing.returncode == 2
    assert missing.stderr == "stackscripts: error: no live server in deployment 'shopp'. Known deployments: blog, shop.\n"
    error = cli_json("servers", "list", "--deployment", "blog", "--group", "db", "--db", str(db), code=2)["error"]
    assert error["message"] == "no live server of deployment 'blog' in group 'db'. Known groups: db."


def test_a_scanned_key_that_differs_from_the_recorded_one_is_reported_not_recorded(
        tmp_path: Path, sshds: list[SshdServer]) -> None:
    server, db = sshds[0], tmp_path / "audit.db"
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(f"{server.name} ansible_host={server.host} ansible_port={server.port}\n")
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlTxkFm1w0pJbp4Y5vAq3C1mR8r0VbHn3aUuQ2gZ7sE"
    cli_json("servers", "import", str(inventory), "--db", str(db))
    with SQLiteStore(db) as store:
        store.update_server(server.name, host_key=other)
    doc = cli_json("servers", "import", str(inventory), "--scan", "--db", str(db), code=1)["data"]["servers"][0]
    assert doc["fingerprint"] == host_fingerprint(other)  # the recorded key, kept
    assert doc["error"].startswith(f"the host presents the key {keygen_fingerprint(server)}, not the recorded ")
    assert cli_json("servers", "show", server.name, "--db", str(db))["data"]["host_key"] == other
