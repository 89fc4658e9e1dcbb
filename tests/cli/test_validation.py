"""Bad options through the real CLI: exit 2, one clear paragraph, no traceback, and nothing recorded or run.

`servers add --host` takes [USER@]HOST with a POSIX user name and a host name, an IPv4 or an IPv6 address, and a
port 1..65535: nothing else (`host;cmd`, `-oProxyCommand=...`) is stored to reach an SSH client or a shell later.
`fleet boot --max-errors` is a count (0 or more) or a percentage from 0% to 100%; `--parallel` is at least 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.api.fleet import error_budget
from stackscripts.api.servers import new_server
from stackscripts.errors import BadInput
from tests.support.cli import cli_json, no_traceback, run_cli

pytestmark = pytest.mark.timeout(120)


def refused(done_args: list[str], db: Path, expect: str) -> str:
    """Run the CLI; it must exit 2 with one `stackscripts: error:` paragraph holding `expect`."""
    done = run_cli(*done_args, "--db", str(db))
    assert done.returncode == 2, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("stackscripts: error: ") and expect in line, line
    doc = cli_json(*done_args, "--db", str(db), code=2)
    assert expect in doc["error"]["message"]
    return line


BAD_HOSTS = [
    ("root@127.0.0.1;touch {marker}", "'127.0.0.1;touch {marker}' is not a host name"),
    ("-oProxyCommand=touch {marker}", "'-oProxyCommand=touch {marker}' is not a host name"),
    ("root@-oProxyCommand=touch", "'-oProxyCommand=touch' is not a host name"),
    ("-oProxyCommand=x@127.0.0.1", "'-oProxyCommand=x' is not a user name"),
    ("ro ot@127.0.0.1", "'ro ot' is not a user name"),
    ("$(touch {marker})@127.0.0.1", "is not a user name"),
    ("root@999.1.2.3", "'999.1.2.3' is not a host name"),
    ("root@[127.0.0.1", "'[127.0.0.1' is not a host name"),
    ("root@host_with_underscore", "'host_with_underscore' is not a host name"),
    ("root@", "has no host name"),
    ("root@" + "a" * 64 + ".example.com", "is not a host name"),
]


@pytest.mark.parametrize(("host", "expect"), BAD_HOSTS)
def test_servers_add_refuses_a_host_that_is_not_one(tmp_path: Path, host: str, expect: str) -> None:
    marker = tmp_path / "touched"
    db = tmp_path / "audit.db"
    refused(["servers", "add", "web1", "--host", host.format(marker=marker)], db, expect.format(marker=marker))
    assert not marker.exists()
    assert cli_json("servers", "list", "--db", str(db))["data"] == []


@pytest.mark.parametrize("port", ["0", "65536", "-22", "99999999999999999999"])
def test_servers_add_refuses_a_port_outside_1_to_65535(tmp_path: Path, port: str) -> None:
    db = tmp_path / "audit.db"
    refused(["servers", "add", "web1", "--host", "root@127.0.0.1", "--port", port], db, "is not a TCP port")
    assert cli_json("servers", "list", "--db", str(db))["data"] == []


@pytest.mark.parametrize(("host", "user", "address", "shown"), [
    ("admin@web1.example.com", "admin", "web1.example.com", "admin@web1.example.com:2222"),
    ("203.0.113.7", "root", "203.0.113.7", "root@203.0.113.7:2222"),
    ("deploy_user@[2001:db8::7]", "deploy_user", "2001:db8::7", "deploy_user@[2001:db8::7]:2222"),
    ("ops@::1", "ops", "::1", "ops@[::1]:2222"),
    ("svc.backup-1@db-2.internal.", "svc.backup-1", "db-2.internal.", "svc.backup-1@db-2.internal.:2222"),
])
def test_servers_add_takes_names_and_both_address_families(tmp_path: Path, host: str, user: str, address: str,
                                                           shown: str) -> None:
    db = tmp_path / "audit.db"
    done = run_cli("servers", "add", "web1", "--host", host, "--port", "2222", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"added web1 ({shown})\n"
    record = cli_json("servers", "show", "web1", "--db", str(db))["data"]
    assert (record["user"], record["host"], record["port"]) == (user, address, 2222)


def test_the_api_refuses_the_same_hosts_and_ports() -> None:
    for host, _ in BAD_HOSTS:
        with pytest.raises(BadInput):
            new_server("web1", host.format(marker="/tmp/x"))
    for port in (0, 65536, -1, True):
        with pytest.raises(BadInput, match="is not a TCP port"):
            new_server("web1", "root@127.0.0.1", port)


@pytest.mark.parametrize("value", ["-1", "150%", "100.5%", "-5%", "1.5", "", " ", "ten", "10 %", "%", "0x3", "-0"])
def test_fleet_boot_refuses_a_max_errors_that_is_not_a_count_or_a_percentage(tmp_path: Path, value: str) -> None:
    db = tmp_path / "audit.db"
    for name in ("web1", "web2"):
        assert run_cli("servers", "add", name, "--host", "root@127.0.0.1", "--port", "1", "--db", str(db)).returncode == 0
    template = tmp_path / "t.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot: []\n")
    refused(["fleet", "boot", "web1", "web2", "-t", str(template), "--max-errors", value], db,
            "is not a number of servers (0 or more) or a percentage from 0% to 100%")
    assert cli_json("runs", "list", "--db", str(db))["data"] == []  # no server was touched, no attempt recorded
    with pytest.raises(BadInput):
        error_budget(value, 2)


@pytest.mark.parametrize(("value", "total", "budget"), [("0", 4, 0), ("3", 4, 3), ("0%", 4, 0), ("50%", 4, 2),
                                                        ("100%", 4, 4), ("25.5%", 10, 2), ("12", 4, 12)])
def test_max_errors_counts_and_percentages(value: str, total: int, budget: int) -> None:
    assert error_budget(value, total) == budget


@pytest.mark.parametrize("command", [["fleet", "boot", "web1", "-t", "t.yaml"], ["deploy", "d.yaml"]])
def test_parallel_below_1_is_refused(tmp_path: Path, command: list[str]) -> None:
    refused([*command, "--parallel", "0"], tmp_path / "audit.db", "--parallel 0 must be at least 1")
