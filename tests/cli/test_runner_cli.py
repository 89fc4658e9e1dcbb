"""The runner's CLI as users run it (`python -m stackscripts ... --db FILE`), against real sshd servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401 - fixtures
from tests.runner.helpers import Step, numbered_step
from tests.support.cli import cli_json, no_traceback, run_cli
from tests.support.net import free_port

pytestmark = pytest.mark.timeout(180)


def add_server(db: Path, name: str, server: Any, **overrides: Any) -> Any:
    port = str(overrides.get("port", server.port))
    key = overrides.get("key", server.key_path)
    return cli_json("servers", "add", name, "--host", f"{server.user}@{server.host}", "--port", port,
                    "--key", key, "--db", str(db))


@pytest.fixture
def world(bench: Bench) -> Bench:
    """The bench with web1 recorded; its in-process controller closed: only CLI processes touch the store."""
    bench.add(1)
    bench.controller.close()
    return bench


def test_servers_add_list_show(bench: Bench) -> None:
    (server,) = bench.pool.take(1)
    bench.controller.close()
    db = str(bench.db)
    added = add_server(bench.db, "web1", server)
    assert added["command"] == "servers add"
    assert added["data"]["name"] == "web1" and added["data"]["port"] == server.port
    assert added["data"]["host"] == "127.0.0.1" and added["data"]["state"] == "pending"
    listed = cli_json("servers", "list", "--db", db)
    assert [s["name"] for s in listed["data"]] == ["web1"]
    shown = cli_json("servers", "show", "web1", "--db", db)
    assert shown["data"]["host_key"] is None and shown["data"]["key_path"] == server.key_path
    again = cli_json("servers", "add", "web1", "--host", "root@127.0.0.1", "--db", db, code=2)
    assert "already exists" in again["error"]["message"] and again["error"]["exit_code"] == 2


def test_boot_and_runs_list_show_log(world: Bench) -> None:
    server = world.sshd["web1"]
    db = str(world.db)
    template = world.template()
    booted = cli_json("boot", "web1", "-t", str(template), "-i", "MSG_3=text:three", "--db", db)
    data = booted["data"]
    assert booted["command"] == "boot" and booted["error"] is None
    assert data["state"] == "succeeded" and data["server"] == "web1" and data["phase"] == "Boot"
    assert [(s["index"], s["exit_code"]) for s in data["steps"]] == [(i, 0) for i in range(5)]
    run_id = data["run_id"]
    assert world.ran("web1") == [1, 2, 3, 4, 5]

    listed = cli_json("runs", "list", "--db", db)["data"]
    assert [(r["id"], r["state"], r["steps"]) for r in listed] == [(run_id, "succeeded", 5)]
    shown = cli_json("runs", "show", run_id, "--db", db)["data"]
    assert shown["inputs"]["MSG_3"] == "text:three" and shown["resumed_from"] is None
    assert [s["exit_code"] for s in shown["steps"]] == [0] * 5
    log = cli_json("runs", "log", run_id, "3", "--db", db)["data"]
    assert log["text"].count("three") == 2 and "step 3 stderr: three" in log["text"]
    stderr = run_cli("runs", "log", run_id, "3", "--stderr", "--db", db)
    assert stderr.returncode == 0 and stderr.stdout == "step 3 stderr: three\n"
    shown_server = cli_json("servers", "show", "web1", "--db", db)["data"]
    assert shown_server["state"] == "operational" and shown_server["host_key"] == server.host_key_line


def test_failed_boot_exits_1_and_resume_exits_0(world: Bench) -> None:
    db = str(world.db)
    template = world.template()
    world.fail_at("web1", 2)
    failed = cli_json("boot", "web1", "-t", str(template), "--db", db, code=1)
    assert failed["error"]["exit_code"] == 1
    assert failed["data"]["state"] == "failed"
    assert [s["exit_code"] for s in failed["data"]["steps"]] == [0, 7]
    run_id = failed["data"]["run_id"]

    human = run_cli("resume", run_id, "--db", db)  # still failing: exit 1, and how to go on
    assert human.returncode == 1
    assert "Resume with: stackscripts resume r-" in human.stderr and "exited 7" in human.stderr
    no_traceback(human.stdout + human.stderr)
    world.fail_at("web1", 2, failing=False)
    second = cli_json("runs", "list", "--db", db)["data"][0]["id"]
    quiet = run_cli("resume", second, "--db", db, "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert world.ran("web1") == [1, 2, 2, 2, 3, 4, 5]
    assert quiet.stdout.startswith("web1: run r-") and quiet.stdout.endswith(" succeeded\n")


def test_quiet_prints_only_the_summary(world: Bench) -> None:
    template = world.template()
    quiet = run_cli("boot", "web1", "-t", str(template), "--db", str(world.db), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    (line,) = quiet.stdout.splitlines()
    assert line.startswith("web1: run r-") and line.endswith(" succeeded")
    loud = run_cli("run", "web1", "Step 1", "--db", str(world.db))  # no operational scripts: bad input
    assert loud.returncode == 2 and "no Operational script 'Step 1'" in loud.stderr
    verbose = run_cli("boot", "web1", "-t", str(template), "--db", str(world.db))
    assert verbose.returncode == 0 and "step 5 stdout: message-5" in verbose.stdout


BAD = ["unknown server", "closed port", "wrong key", "invalid template", "missing required input"]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_with_one_paragraph_and_runs_nothing(bench: Bench, case: str) -> None:
    server, other = bench.pool.take(2)
    template = bench.template()
    name, expect = "web1", ""
    port, key = server.port, server.key_path
    if case == "unknown server":
        name, expect = "nosuch", "unknown server 'nosuch'"
    elif case == "closed port":
        port, expect = free_port(), "connection refused"
    elif case == "wrong key":
        key, expect = other.key_path, "authentication failed"
    elif case == "invalid template":
        template.write_text(template.read_text() + "Colour: blue\n")
        expect = f"{template}:"
    else:
        template = bench.template([numbered_step(1), Step("Needs", "true\n", {"TOKEN": None})])
        expect = "required input TOKEN has no value"
    bench.controller.add_server("web1", f"{server.user}@{server.host}", port, key)
    bench.controller.close()

    done = run_cli("boot", name, "-t", str(template), "--db", str(bench.db))
    assert done.returncode == 2, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()  # one paragraph
    assert line.startswith("stackscripts: error: ") and expect in line
    assert bench.ran("web1") == []
    controller = bench.reopen()
    attempts = controller.runs()  # a connection that failed is a failed attempt (tests/runner/test_attempts.py)
    connecting = case in ("closed port", "wrong key")
    assert [(r.state, r.steps, expect in (r.error or "")) for r in attempts] == ([("failed", (), True)] if connecting
                                                                                 else [])
    assert controller.store.get_server("web1").state == "pending"
    if case in ("closed port", "invalid template"):
        as_json = cli_json("boot", name, "-t", str(template), "--db", str(bench.db), code=2)
        assert as_json["error"]["exit_code"] == 2 and expect in as_json["error"]["message"]


def test_fleet_max_errors_skips_the_rest(bench: Bench) -> None:
    names = bench.add(4)
    bench.controller.close()
    template = bench.template([numbered_step(1), numbered_step(2)])
    bench.fail_at("web1", 2)
    bench.fail_at("web3", 1)
    done = cli_json("fleet", "boot", *names, "-t", str(template), "--parallel", "1", "--max-errors", "1",
                    "--db", str(bench.db), code=1)
    outcomes = {o["server"]: o for o in done["data"]["servers"]}
    assert [outcomes[n]["status"] for n in names] == ["failed", "succeeded", "failed", "skipped"]
    assert outcomes["web4"]["run"] is None and bench.ran("web4") == []
    assert outcomes["web2"]["run"]["state"] == "succeeded"


def test_fleet_checks_the_template_once_before_touching_a_server(bench: Bench) -> None:
    names = bench.add(2)
    bench.controller.close()
    template = bench.template([numbered_step(1), Step("Needs", "true\n", {"TOKEN": None})])
    done = run_cli("fleet", "boot", *names, "-t", str(template), "--db", str(bench.db))
    assert done.returncode == 2, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    (line,) = done.stderr.splitlines()
    assert "required input TOKEN has no value" in line and done.stdout == ""
    assert bench.ran("web1") == [] and bench.reopen().runs() == []
