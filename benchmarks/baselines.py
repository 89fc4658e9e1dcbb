"""The baselines: raw OpenSSH with ControlMaster multiplexing (the floor), all steps in one ssh call
(the physical limit), and a plain Fabric loop. Hosts run in parallel threads in all three.

Every run connects from scratch: the timing includes each host's connection (the master's
handshake for raw ssh), as it does for stackscripts and the peers.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .hosts import close_masters, forget_cleanup, on_cleanup, ssh_args, temp_dir
from .timing import RUN_TIMEOUT, run_checked, timed


def _parallel(servers: list[SshdServer], one) -> None:  # type: ignore[no-untyped-def]
    """Call one(index, server) for every server at once; re-raise the first failure."""
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        for future in [pool.submit(one, i, s) for i, s in enumerate(servers, 1)]:
            future.result()


def raw_mux(servers: list[SshdServer], out_dir: Path, steps: int) -> float:
    """A ControlMaster per host (ssh -MNf, ControlPersist=60), then one `ssh host 'env ... bash -s' < step` per step."""
    control = temp_dir("bm-cm-")
    close = on_cleanup(lambda: close_masters(control))
    step_files = workload.write_step_files(out_dir.parent / f"{out_dir.name}-steps", steps)

    def one(i: int, server: SshdServer) -> None:
        path = f"ControlPath={control}/{i}"
        run_checked(ssh_args(server, "-MNf", "-o", path, "-o", "ControlMaster=yes", "-o", "ControlPersist=60"))
        name = f"web{i}"
        for n, step in enumerate(step_files, 1):
            command = workload.env_command(workload.step_env(n, out_dir, name), "bash -s")
            run_checked(ssh_args(server, "-o", path, "-o", "ControlMaster=no") + [command], input=step.read_bytes())

    try:
        return timed(lambda: _parallel(servers, one))
    finally:
        close_masters(control)
        forget_cleanup(close)


def one_call(servers: list[SshdServer], out_dir: Path, steps: int) -> float:
    """All steps in a single `ssh host 'bash -s'` per host: one connection, one command."""
    scripts = {i: workload.one_call_script(out_dir, f"web{i}", steps).encode() for i in range(1, len(servers) + 1)}

    def one(i: int, server: SshdServer) -> None:
        run_checked(ssh_args(server) + ["bash -s"], input=scripts[i])

    return timed(lambda: _parallel(servers, one))


def fabric_loop(servers: list[SshdServer], out_dir: Path, steps: int) -> float:
    """fabric.Connection per host on a TCP_NODELAY socket, each step a conn.run(), hosts in threads."""
    from fabric import Connection  # imported here: the import is not part of the run's time

    def one(i: int, server: SshdServer) -> None:
        sock = socket.create_connection((server.host, server.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(server.host, user=server.user, port=server.port, connect_timeout=10,
                          connect_kwargs={"sock": sock, "key_filename": server.key_path,
                                          "look_for_keys": False, "allow_agent": False})
        try:
            for n in range(1, steps + 1):
                env = workload.step_env(n, out_dir, f"web{i}")
                conn.run(workload.env_command(env, "bash -c " + shlex.quote(workload.body(n))), hide=True,
                         in_stream=False, timeout=RUN_TIMEOUT)
        finally:
            conn.close()
            sock.close()

    return timed(lambda: _parallel(servers, one))


def ssh_version() -> str:
    done = subprocess.run(["ssh", "-V"], capture_output=True, text=True)
    return (done.stderr or done.stdout).strip().split(",")[0]
