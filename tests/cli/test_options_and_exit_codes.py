"""Options out of range are bad input (exit 2, nothing run), deployments that cannot be launched are refused
with FILE:LINE, and an internal error is exit 3: one paragraph, or an InternalError envelope, never a
traceback unless STACKSCRIPTS_DEBUG asks for one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackscripts.api.fleet import error_budget
from stackscripts.errors import BadInput
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.net import free_port
from tests.support.rightscripts import write_rightscript

pytestmark = pytest.mark.timeout(180)


@dataclass
class Store:
    """A store with server w1 (recorded, pending: its port is closed) and a valid one-step template."""

    db: Path
    template: Path

    def state(self, server: str = "w1") -> str:
        return cli_json("servers", "show", server, "--db", str(self.db))["data"]["state"]

    def runs(self) -> list:
        return cli_json("runs", "list", "--db", str(self.db))["data"]


def new_store(folder: Path) -> Store:
    write_rightscript(folder, "Hello", 'echo "hello $PEER"\n', inputs={"PEER": "text:none"})
    template = folder / "template.yaml"
    template.write_text("Name: T\nRightScripts:\n  Boot:\n  - hello.sh\n  Decommission:\n  - hello.sh\n")
    db = folder / "audit.db"
    cli_json("servers", "add", "w1", "--host", "root@127.0.0.1", "--port", str(free_port()), "--db", str(db))
    return Store(db, template)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield new_store(tmp_path_factory.mktemp("options"))


def refused(*args: str, expect: str) -> None:
    """Exit 2 with one paragraph naming the problem and nothing on stdout; the same as an envelope."""
    done = run_cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("stackscripts: error: ")
    assert expect in done.stderr, done.stderr
    no_traceback(done.stderr)
    doc = cli_json(*args, code=2)
    assert expect in doc["error"]["message"]


@pytest.mark.parametrize("value", ["-1", "-5%", "abc", "1.5", "101%", "inf%", "nan%", "5 %", ""])
def test_fleet_max_errors_out_of_range(store: Store, value: str) -> None:
    refused("fleet", "boot", "w1", "-t", str(store.template), f"--max-errors={value}", "--db", str(store.db),
            expect="--max-errors")
    assert store.runs() == [] and store.state() == "pending"


@pytest.mark.parametrize(("value", "total", "tolerated"), [
    ("0", 10, 0), ("3", 10, 3), ("10%", 10, 1), ("25%", 10, 2), ("100%", 7, 7), ("0%", 5, 0), ("12.5%", 16, 2),
    (" 2 ", 4, 2)])
def test_max_errors_accepted(value: str, total: int, tolerated: int) -> None:
    assert error_budget(value, total) == tolerated


@pytest.mark.parametrize("value", ["-1", "-5%", "101%", "inf%", "1e3"])
def test_max_errors_refused_by_the_api_too(value: str) -> None:
    with pytest.raises(BadInput, match="--max-errors"):
        error_budget(value, 10)


@pytest.mark.parametrize(("value", "expect"), [("0", "--parallel 0 must be at least 1"),
                                               ("-3", "--parallel -3 must be at least 1"),
                                               ("two", "'two' is not a valid integer")])
def test_fleet_parallel_out_of_range(store: Store, value: str, expect: str) -> None:
    refused("fleet", "boot", "w1", "-t", str(store.template), f"--parallel={value}", "--db", str(store.db),
            expect=expect)
    assert store.runs() == []


@pytest.mark.parametrize(("value", "expect"), [("0", "--parallel 0 must be at least 1"),
                                               ("-1", "--parallel -1 must be at least 1"),
                                               ("many", "'many' is not a valid integer")])
def test_deploy_parallel_out_of_range(store: Store, tmp_path: Path, value: str, expect: str) -> None:
    deployment = tmp_path / "d.yaml"
    deployment.write_text(f"Servers:\n- Name: d1\n  Template: {store.template}\n")
    refused("deploy", str(deployment), f"--parallel={value}", "--db", str(store.db), expect=expect)
    assert "d1" not in {s["name"] for s in cli_json("servers", "list", "--db", str(store.db))["data"]}


@pytest.mark.parametrize(("command", "value", "expect"), [
    ("decommission", "0", "budget of 0.0 seconds"),
    ("decommission", "-1", "budget of -1.0 seconds"),
    ("decommission", "nan", "budget of nan seconds"),
    ("decommission", "inf", "budget of inf seconds"),
    ("decommission", "soon", "'soon' is not a valid float"),
    ("terminate", "-1", "budget of -1.0 seconds"),
    ("terminate", "0", "budget of 0.0 seconds"),
])
def test_decommission_budget_out_of_range(store: Store, command: str, value: str, expect: str) -> None:
    refused(command, "w1", f"--budget={value}", "--db", str(store.db), expect=expect)
    assert store.runs() == [] and store.state() == "pending"  # terminate did not mark it terminated


DEPLOYMENTS = {
    "unknown server": ("- Name: app\n  Template: {t}\n  Inputs:\n    PEER: env:dbx:PRIVATE_IP\n", 1,
                       "server app references unknown server 'dbx'"),
    "cycle": ("- Name: a\n  Template: {t}\n  Inputs:\n    PEER: env:b:PRIVATE_IP\n"
              "- Name: b\n  Template: {t}\n  Inputs:\n    PEER: env:a:PRIVATE_IP\n", 1,
              "env: references form a cycle between a, b"),
    "duplicate names": ("- Name: app\n  Template: {t}\n- Name: app\n  Template: {t}\n", 3,
                        "two servers are named 'app' (first at line 2)"),
}


@pytest.mark.parametrize("case", list(DEPLOYMENTS))
def test_deployments_that_cannot_launch_are_refused_with_file_and_line(store: Store, tmp_path: Path,
                                                                     case: str) -> None:
    servers, line, expect = DEPLOYMENTS[case]
    deployment = tmp_path / "d.yaml"
    deployment.write_text("Servers:\n" + servers.format(t=store.template))
    line += 1  # after "Servers:"
    refused("deploy", str(deployment), "--db", str(store.db), expect=f"{deployment}:{line}: {expect}")
    doc = cli_json("deploy", str(deployment), "--db", str(store.db), code=2)
    assert (doc["error"]["file"], doc["error"]["line"]) == (str(deployment), line)
    assert cli_json("servers", "list", "--db", str(store.db))["data"][0]["name"] == "w1"  # nothing launched


def test_deploy_to_an_unknown_cloud_is_bad_input_before_any_launch(store: Store, tmp_path: Path) -> None:
    deployment = tmp_path / "d.yaml"
    deployment.write_text(f"Servers:\n- Name: ok\n  Template: {store.template}\n"
                          f"- Name: far\n  Template: {store.template}\n  Cloud: atlantis\n")
    refused("deploy", str(deployment), "--cloud", "local", "--db", str(store.db), expect="unknown cloud 'atlantis'")
    assert {s["name"] for s in cli_json("servers", "list", "--db", str(store.db))["data"]} == {"w1"}


# Exit code 3: a transport registered under "ssh" before the CLI runs (a sitecustomize on PYTHONPATH, the
# way Python loads site hooks) that fails with a plain RuntimeError, as a bug would.
BROKEN = '''\
from stackscripts.transport.base import Session, Transport, transports


class BrokenSession(Session):
    host_key = None

    def run_bundle(self, bundle, *, timeout=None, on_output=None):
        raise RuntimeError("the test session broke")

    def run_command(self, command, *, timeout=None):
        raise RuntimeError("the test session broke")

    def close(self):
        pass


class BrokenTransport(Transport):
    def open(self, host):
        if "{where}" == "open":
            raise RuntimeError("the test transport broke")
        return BrokenSession()


transports.register("ssh", BrokenTransport)
'''


def broken_env(folder: Path, where: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(BROKEN.replace("{where}", where))
    root = Path(__file__).resolve().parents[2]
    return {"PYTHONPATH": os.pathsep.join([str(folder), str(root)])}


def test_an_internal_error_is_exit_3_without_a_traceback(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    env = broken_env(tmp_path / "site", "open")
    args = ("boot", "w1", "-t", str(store.template), "--db", str(store.db))
    done = run_cli(*args, env=env)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == ("stackscripts: internal error: RuntimeError: the test transport broke "
                           "(set STACKSCRIPTS_DEBUG=1 for a traceback)\n")
    doc = cli_json(*args, code=3, env=env)
    assert doc["command"] == "boot" and doc["data"] is None
    assert doc["error"]["type"] == "InternalError" and "the test transport broke" in doc["error"]["message"]
    debug = run_cli(*args, env={**env, "STACKSCRIPTS_DEBUG": "1"})
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "RuntimeError" in debug.stderr
    assert store.runs() == [] and store.state() == "pending"  # connect first: nothing recorded


def test_an_internal_error_mid_run_ends_the_run_and_frees_the_server(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    env = broken_env(tmp_path / "site", "run")
    args = ("boot", "w1", "-t", str(store.template), "--db", str(store.db))
    doc = cli_json(*args, code=3, env=env)
    assert "the test session broke" in doc["error"]["message"]
    (run,) = store.runs()
    assert run["state"] == "failed" and store.state() == "stranded"
    again = cli_json(*args, code=3, env=env)  # the server is not left busy: the next run starts
    assert "busy" not in again["error"]["message"] and len(store.runs()) == 2
