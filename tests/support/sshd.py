"""Real OpenSSH servers on 127.0.0.1 for tests: own host key, own config, own client key.

Usage from any test folder (tests/transport/conftest.py has `sshd` and `sshd_factory` fixtures)::

    from tests.support.sshd import start_sshd, start_many

    server = start_sshd("web1")          # skips (fails under CI=true) without sshd/ssh-keygen
    spec = server.host_spec()            # HostSpec with its real host key recorded
    spec = server.host_spec(known_host_key=False, connect_timeout=2)   # trust on first use
    server.kill_sessions()               # drop every open connection (SIGKILL)
    server.restart(new_host_key=True)    # same port, a rebuilt host's new key
    server.close()                       # kill sshd and its sessions, remove the temp dir
    servers = start_many(10)             # web1..web10 in parallel (~0.2 s)
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stackscripts.transport.base import HostSpec

from .parts import require_binary

START_TIMEOUT = 10.0

CONFIG = """\
ListenAddress {host}:{port}
HostKey {tmpdir}/ssh_host_ed25519_key
PidFile {tmpdir}/sshd.pid
AuthorizedKeysFile {tmpdir}/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 50
MaxStartups 100:30:200
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
LogLevel VERBOSE
Subsystem sftp internal-sftp
# bash run by sshd reads ~/.bashrc only at SHLVL < 2: keep a developer's heavy .bashrc
# (pyenv init...) out of every command, as on a server whose .bashrc returns early.
SetEnv SHLVL=1
"""


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        [require_binary("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat): tells a pid from a reused one."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().decode(errors="replace").rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> list[tuple[int, str]]:
    """All live descendants of pid as (pid, start time), parents before children, from /proc."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append((int(entry), fields[19]))
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _kill(procs: list[tuple[int, str]], sig: int) -> None:
    """Signal each process that is still the one recorded (same pid and start time)."""
    for pid, started in procs:
        if _start_time(pid) != started:
            continue
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


@dataclass
class SshdServer:
    """One running sshd; `host_spec()` gives the HostSpec a transport connects with."""

    name: str
    host: str
    port: int
    user: str
    key_path: str
    host_key_line: str
    pid: int
    tmpdir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _strays: list[tuple[int, str]] = field(default_factory=list, repr=False)  # sessions of a stopped sshd

    @property
    def log_path(self) -> Path:
        return self.tmpdir / "sshd.log"

    def host_spec(self, *, known_host_key: bool = True, **overrides: Any) -> HostSpec:
        """HostSpec for this server; known_host_key=False leaves it to trust on first use."""
        spec = HostSpec(
            name=self.name,
            host=self.host,
            port=self.port,
            user=self.user,
            key_path=self.key_path,
            host_key=self.host_key_line if known_host_key else None,
            connect_timeout=5.0,
        )
        return replace(spec, **overrides) if overrides else spec

    def session_pids(self) -> list[int]:
        """The per-connection sshd processes and everything they run."""
        return [pid for pid, _ in self._sessions()]

    def kill_sessions(self) -> None:
        """Drop every open connection abruptly (SIGKILL its sshd processes)."""
        _kill([p for p in self._sessions() if _comm(p[0]).startswith("sshd")], signal.SIGKILL)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop listening (SIGTERM); open sessions live on, like a real sshd restart."""
        if self.running():
            assert self.process is not None
            self._strays.extend(_descendants(self.pid))
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL sshd and every session and command it started (also those of earlier runs)."""
        if self.running():
            assert self.process is not None
            _kill(_descendants(self.pid), signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=10)
        _kill(self._strays, signal.SIGKILL)
        self._strays.clear()

    def _sessions(self) -> list[tuple[int, str]]:
        return _descendants(self.pid) if self.running() else []

    def restart(self, *, new_host_key: bool = False) -> None:
        """Stop and start again on the same port, optionally with a freshly generated host key."""
        self.stop()
        if new_host_key:
            for suffix in ("", ".pub"):
                (self.tmpdir / f"ssh_host_ed25519_key{suffix}").unlink()
            _keygen(self.tmpdir / "ssh_host_ed25519_key", f"{self.name}-host")
            self.host_key_line = _public_line(self.tmpdir / "ssh_host_ed25519_key.pub")
        self._launch()

    def close(self) -> None:
        """Kill everything and remove the temp dir."""
        self.kill()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def _launch(self) -> None:
        sshd = require_binary("sshd", "sshd (apt-get install -y openssh-server)")
        config = self.tmpdir / "sshd_config"
        config.write_text(CONFIG.format(host=self.host, port=self.port, tmpdir=self.tmpdir))
        self.process = subprocess.Popen(
            [sshd, "-D", "-f", str(config), "-E", str(self.log_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"sshd for {self.name} exited at start:\n{self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                    if s.recv(8).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"sshd for {self.name} not ready in {START_TIMEOUT}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _public_line(pub: Path) -> str:
    kind, data = pub.read_text().split()[:2]
    return f"{kind} {data}"


def start_sshd(name: str = "web1", *, host: str = "127.0.0.1", attempts: int = 5) -> SshdServer:
    """Start one sshd on a free port of host with a new host key and a new client key."""
    require_binary("sshd", "sshd (apt-get install -y openssh-server)")
    require_binary("ssh-keygen", "ssh-keygen (apt-get install -y openssh-client)")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
    tmpdir = Path(tempfile.mkdtemp(prefix=f"sshd-{name}-"))
    try:
        _keygen(tmpdir / "ssh_host_ed25519_key", f"{name}-host")
        _keygen(tmpdir / "client_key", f"{name}-client")
        shutil.copyfile(tmpdir / "client_key.pub", tmpdir / "authorized_keys")
        server = SshdServer(
            name=name,
            host=host,
            port=0,
            user=getpass.getuser(),
            key_path=str(tmpdir / "client_key"),
            host_key_line=_public_line(tmpdir / "ssh_host_ed25519_key.pub"),
            pid=0,
            tmpdir=tmpdir,
        )
        for attempt in range(attempts):
            server.port = _free_port(host)
            try:
                server._launch()
                return server
            except RuntimeError:
                if attempt == attempts - 1:  # a port taken between probe and bind: try another
                    raise
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


def start_many(count: int, *, prefix: str = "web") -> list[SshdServer]:
    """Start count servers in parallel, named prefix1..prefixN."""
    names = [f"{prefix}{i}" for i in range(1, count + 1)]
    with ThreadPoolExecutor(max_workers=min(count, 16) or 1) as pool:
        futures = [pool.submit(start_sshd, n) for n in names]
        servers: list[SshdServer] = []
        error: BaseException | None = None
        for future in futures:
            try:
                servers.append(future.result())
            except BaseException as exc:  # keep collecting so started ones can be closed
                error = error or exc
    if error is not None:
        for server in servers:
            server.close()
        raise error
    return servers
