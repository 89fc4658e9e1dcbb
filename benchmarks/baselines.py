"""The baselines, each timed as one process: raw OpenSSH with ControlMaster multiplexing (the floor), all steps
in one ssh call (the physical limit), both driven by `raw_ssh.sh`; and the bare Fabric loop, `fabric_loop.py`
run as a script (Python's start-up and Fabric's imports included).

Every run connects from scratch: the timing includes each host's connection (the master's handshake for
raw ssh), as it does for stackscripts and the peers.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .hosts import close_masters, forget_cleanup, on_cleanup, temp_dir
from .observe import run_tool
from .timing import RUN_TIMEOUT, timed, tool_env

HERE = Path(__file__).resolve().parent


def _hosts_file(folder: Path, servers: list[SshdServer]) -> None:
    lines = [f"{i} {s.port} {s.user} {s.host} {s.key_path}" for i, s in enumerate(servers, 1)]
    (folder / "hosts").write_text("\n".join(lines) + "\n")


def raw_mux(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`bash raw_ssh.sh mux`: a ControlMaster per host (ssh -MNf), then one `ssh host 'env ... bash -s' < step` per step."""
    spec = out_dir.parent / f"{out_dir.name}-raw"
    workload.write_step_files(spec / "steps", steps)
    (spec / "cmds").mkdir()
    for i in range(1, len(servers) + 1):
        commands = [workload.env_command(workload.step_env(n, out_dir, f"web{i}"), "bash -s")
                    for n in range(1, steps + 1)]
        (spec / "cmds" / str(i)).write_text("\n".join(commands) + "\n")
    _hosts_file(spec, servers)
    control = temp_dir("bm-cm-")
    close = on_cleanup(lambda: close_masters(control))
    args = ["bash", str(HERE / "raw_ssh.sh"), "mux", str(spec), str(control)]
    try:
        return timed(lambda: run_tool(args, env=tool_env(), timeout=timeout, workdir=spec))
    finally:
        close_masters(control)
        forget_cleanup(close)


def one_call(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`bash raw_ssh.sh one`: all steps in a single `ssh host 'bash -s'` per host: one connection, one command."""
    spec = out_dir.parent / f"{out_dir.name}-one"
    (spec / "one").mkdir(parents=True)
    for i in range(1, len(servers) + 1):
        (spec / "one" / f"{i}.sh").write_text(workload.one_call_script(out_dir, f"web{i}", steps))
    _hosts_file(spec, servers)
    args = ["bash", str(HERE / "raw_ssh.sh"), "one", str(spec), "/nonexistent"]
    return timed(lambda: run_tool(args, env=tool_env(), timeout=timeout, workdir=spec))


def fabric_spec(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float) -> dict:
    hosts = []
    for i, s in enumerate(servers, 1):
        commands = [workload.env_command(workload.step_env(n, out_dir, f"web{i}"), "bash -c " + shlex.quote(workload.body(n)))
                    for n in range(1, steps + 1)]
        hosts.append({"host": s.host, "port": s.port, "user": s.user, "key": s.key_path, "commands": commands})
    return {"timeout": timeout, "hosts": hosts}


def fabric_loop(servers: list[SshdServer], out_dir: Path, steps: int, timeout: float = RUN_TIMEOUT) -> float:
    """`python benchmarks/fabric_loop.py SPEC`: a fabric.Connection per host (TCP_NODELAY), each step a conn.run()."""
    work = out_dir.parent / f"{out_dir.name}-fabric"
    work.mkdir(parents=True)
    spec = work / "spec.json"
    spec.write_text(json.dumps(fabric_spec(servers, out_dir, steps, timeout)))
    args = [sys.executable, str(HERE / "fabric_loop.py"), str(spec)]
    return timed(lambda: run_tool(args, env=tool_env(), timeout=timeout + 30, workdir=work))


def ssh_version() -> str:
    done = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
    return (done.stderr or done.stdout).strip().split(",")[0]
