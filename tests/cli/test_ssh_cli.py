"""`stackscripts ssh SERVER [-- COMMAND]` as users run it: OpenSSH's client against real sshd servers on loopback,
with the server's recorded address, user, port, key and host key."""

from __future__ import annotations

import os
import pty
import select
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.shell import ssh_invocation
from stackscripts.store.base import ServerRecord
from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401 - fixtures
from tests.support.cli import ROOT, cli_command, cli_env, cli_json, no_traceback, run_cli, spawn_cli
from tests.support.parts import require_binary
from tests.support.sshd import SshdServer
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def openssh_client() -> None:
    require_binary("ssh", "ssh (apt-get install -y openssh-client)")
    require_binary("ssh-keyscan", "ssh-keyscan (apt-get install -y openssh-client)")


def add(bench: Bench, name: str, server: SshdServer, key: str | None = None) -> None:
    added = cli_json("servers", "add", name, "--host", f"{server.user}@{server.host}", "--port", str(server.port),
                     "--key", key or server.key_path, "--db", str(bench.db))
    assert added["data"]["host_key"] is None


def ssh(bench: Bench, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = run_cli("ssh", *args, "--db", str(bench.db), env=env) if "--" not in args else \
        run_cli("ssh", "--db", str(bench.db), *args, env=env)
    no_traceback(done.stdout + done.stderr)
    return done


def recorded_key(bench: Bench, name: str) -> str | None:
    with Controller(bench.db) as c:
        return c.store.get_server(name).host_key


def test_a_command_runs_and_the_host_key_is_recorded_at_first_use(bench: Bench) -> None:
    (server,) = bench.pool.take(1)
    bench.controller.close()
    add(bench, "web1", server)
    done = ssh(bench, "web1", "--", "hostname")
    assert done.returncode == 0, done.stderr
    assert done.stdout == socket.gethostname() + "\n"
    assert recorded_key(bench, "web1") == server.host_key_line  # trust on first use, like runs
    assert "web1: recorded its host key SHA256:" in done.stderr and "trusted on first use" in done.stderr

    again = ssh(bench, "web1", "--", "echo", "one", "two")  # the recorded key now: checked strictly, quietly
    assert (again.returncode, again.stdout, again.stderr) == (0, "one two\n", "")
    assert ssh(bench, "web1", "--", "exit 7").returncode == 7  # the remote command's exit code
    assert ssh(bench, "web1", "--", "echo", "out; echo err >&2; exit 3").stderr == "err\n"

    doc = cli_json("ssh", "web1", "uname", "--db", str(bench.db))  # --json: the command's output in the envelope
    assert doc["command"] == "ssh"
    assert doc["data"] == {"server": "web1", "command": ["uname"], "exit_code": 0, "stdout": "Linux\n",
                           "stderr": "", "recorded_host_key": None}
    failed = cli_json("ssh", "web1", "exit 4", "--db", str(bench.db), code=4)
    assert failed["data"]["exit_code"] == 4 and failed["error"]["message"] == "the command exited 4"
    shell = cli_json("ssh", "web1", "--db", str(bench.db), code=2)  # an interactive shell has no JSON form
    assert "needs a COMMAND" in shell["error"]["message"]


def test_an_interactive_shell_gets_a_terminal(bench: Bench) -> None:
    (server,) = bench.pool.take(1)
    bench.controller.close()
    add(bench, "web1", server)
    main, child_end = pty.openpty()
    child = subprocess.Popen(cli_command("ssh", "web1", "--db", str(bench.db)), stdin=child_end, stdout=child_end,
                             stderr=child_end, env=cli_env(), cwd=ROOT, start_new_session=True)
    os.close(child_end)
    os.write(main, b"tty; echo hi-$((6*7)); exit 3\n")
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif child.poll() is not None:
            break
    os.close(main)
    assert child.wait(timeout=30) == 3, seen
    assert b"hi-42" in seen and b"/dev/pts/" in seen, seen


def test_a_changed_host_key_is_refused_with_exit_2(bench: Bench) -> None:
    server = bench.pool.fresh("rebuilt")
    bench.controller.close()
    add(bench, "web1", server)
    assert ssh(bench, "web1", "--", "true").returncode == 0
    old = recorded_key(bench, "web1")
    assert old == server.host_key_line

    server.restart(new_host_key=True)  # the host was rebuilt, or someone is in the middle
    refused = ssh(bench, "web1", "--", "touch", str(bench.tmp / "ran"))
    assert refused.returncode == 2 and refused.stdout == ""
    message = refused.stderr
    assert message.startswith("stackscripts: error: web1: the host key of ") and "has changed" in message
    assert "stackscripts servers forget-key web1" in message and len(message.strip().splitlines()) == 1
    assert not (bench.tmp / "ran").exists() and recorded_key(bench, "web1") == old
    as_json = cli_json("ssh", "web1", "true", "--db", str(bench.db), code=2)
    assert as_json["error"]["type"] == "HostKeyMismatch" and as_json["error"]["server"] == "web1"

    # without the early check, ssh itself refuses: the known_hosts file is strict
    with Controller(bench.db) as c, ssh_invocation(c, "web1", ["touch", str(bench.tmp / "ran")], batch=True,
                                                   check_key=False) as call:
        assert "StrictHostKeyChecking=yes" in call.argv and "GlobalKnownHostsFile=/dev/null" in call.argv
        done = subprocess.run(call.argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 255 and "Host key verification failed" in done.stderr
    assert not (bench.tmp / "ran").exists()

    assert cli_json("servers", "forget-key", "web1", "--db", str(bench.db))["ok"]
    assert ssh(bench, "web1", "--", "true").returncode == 0
    assert recorded_key(bench, "web1") == server.host_key_line != old


def test_a_cred_key_works_and_leaves_no_key_file(bench: Bench, tmp_path: Path) -> None:
    server = bench.pool.fresh("credkey")
    bench.controller.close()
    key_text = Path(server.key_path).read_text()
    Path(server.key_path).unlink()  # the credential is the only copy: no agent or default key can stand in
    add(bench, "web1", server, key="cred:web1-key")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"STACKSCRIPTS_CRED_WEB1_KEY": key_text, "TMPDIR": str(scratch)}

    child = spawn_cli("ssh", "--db", str(bench.db), "web1", "--", "echo", "in; sleep 2; echo out", env=env)
    written = key_text.strip() + "\n"
    keys = wait_until(lambda: [p for d in scratch.iterdir() for p in d.iterdir() if p.read_text() == written],
                      timeout=30, what="the key written for ssh")
    (folder,) = list(scratch.iterdir())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(keys) == 1 and keys[0].parent == folder and stat.S_IMODE(keys[0].stat().st_mode) == 0o600
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out == "in\nout\n" and key_text.strip().splitlines()[1] not in out + err
    assert list(scratch.iterdir()) == []  # removed afterwards

    failing = ssh(bench, "web1", "--", "exit 9", env=env)  # a failing command: removed all the same
    assert failing.returncode == 9 and list(scratch.iterdir()) == []
    missing = ssh(bench, "web1", "--", "true", env={"TMPDIR": str(scratch)})  # the credential is not there
    assert missing.returncode == 2 and "web1-key" in missing.stderr and list(scratch.iterdir()) == []


def test_unknown_servers_and_servers_without_an_address_are_exit_2(bench: Bench) -> None:
    bench.controller.store.put_server(ServerRecord(name="app1"))  # launched, never given an address
    bench.controller.store.put_server(ServerRecord(name="old1", host="127.0.0.1", port=1, state="terminated"))
    bench.controller.close()
    unknown = ssh(bench, "nope", "--", "true")
    assert unknown.returncode == 2 and unknown.stderr.startswith("stackscripts: error: unknown server 'nope'")
    pending = ssh(bench, "app1", "--", "true")
    assert pending.returncode == 2 and "server app1 has no address to connect to" in pending.stderr
    assert len(pending.stderr.strip().splitlines()) == 1
    terminated = ssh(bench, "old1")
    assert terminated.returncode == 2 and "server old1 is terminated" in terminated.stderr
    assert cli_json("ssh", "nope", "true", "--db", str(bench.db), code=2)["error"]["type"] == "NotFound"
