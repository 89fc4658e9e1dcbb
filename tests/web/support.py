"""The dashboard's tests: a world of real runs (real sshd servers, a real store), a real `stackscripts serve`, HTTP.

    world = World(tmp_path)                       # a SQLite store in tmp_path, sshd servers started on demand
    world.server("web1")                          # a real sshd, recorded in the store (team given or the store's)
    run = world.boot("web1", [("Install", "echo hi\\n")])      # a real boot; returns the run id (failed ones too)
    with Served(world.db, port=18081) as site:   # `stackscripts serve --bind 127.0.0.1:18081 --db ...`
        status, headers, body = fetch(site.url + "/servers")
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from stackscripts.api.controller import Controller
from stackscripts.errors import RunFailed
from tests.support.rightscripts import write_rightscript
from tests.support.sshd import SshdServer, start_sshd

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class World:
    """Real servers and runs in one SQLite store."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "audit.db"
        self.sshd: dict[str, SshdServer] = {}
        self.templates = 0

    def controller(self, team: str | None = None) -> Controller:
        c = Controller(self.db)
        if team:
            c.store.team = team
        return c

    def server(self, name: str, team: str | None = None) -> SshdServer:
        """A real sshd recorded in the store as `name` (in `team`)."""
        sshd = self.sshd.get(name) or start_sshd(name)
        self.sshd[name] = sshd
        with self.controller(team) as c:
            c.add_server(name, f"{sshd.user}@{sshd.host}", sshd.port, sshd.key_path)
        return sshd

    def template(self, steps: Sequence[tuple[str, str]], operational: Sequence[tuple[str, str]] = (),
                 name: str | None = None) -> Path:
        """A template whose Boot steps (and Operational scripts) are these (name, body) pairs."""
        self.templates += 1
        folder = self.folder / f"t{self.templates}"
        boot, ops = [], []
        for n, (step, body) in enumerate(steps, 1):
            write_rightscript(folder / "scripts", step, body, file=f"boot{n}.sh")
            boot.append(f"    - scripts/boot{n}.sh")
        for n, (step, body) in enumerate(operational, 1):
            write_rightscript(folder / "scripts", step, body, file=f"op{n}.sh")
            ops.append(f"    - scripts/op{n}.sh")
        text = f"Name: {name or 'Web test'}\nRightScripts:\n  Boot:\n" + "\n".join(boot) + "\n"
        if ops:
            text += "  Operational:\n" + "\n".join(ops) + "\n"
        path = folder / "template.yaml"
        path.write_text(text)
        return path

    def boot(self, server: str, steps: Sequence[tuple[str, str]] | Path, team: str | None = None,
             operational: Sequence[tuple[str, str]] = ()) -> str:
        """A real boot; the run id whether it succeeded or failed."""
        template = steps if isinstance(steps, Path) else self.template(steps, operational)
        with self.controller(team) as c:
            try:
                return c.boot(server, template, force=True).run_id
            except RunFailed as exc:
                assert exc.result is not None
                return exc.result.run_id

    def close(self) -> None:
        for sshd in self.sshd.values():
            sshd.close()


def free_port(host: str = "127.0.0.1", low: int = 18080, high: int = 18099) -> int:
    """A free port of the dashboard tests' range (18080-18099)."""
    for port in range(low, high + 1):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue
    raise RuntimeError(f"no free port in {low}-{high} on {host}")


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (eth0's, docker0's...)."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and not fields[3].startswith("127."):
            return fields[3].split("/")[0]
    return None


class Served:
    """`stackscripts serve` in a process of its own; its log (stderr) kept in a file."""

    def __init__(self, db: Path | str, *, host: str = "127.0.0.1", port: int | None = None,
                 env: Mapping[str, str] | None = None, logs: Path | None = None) -> None:
        self.db, self.host = db, host
        self.port = port or free_port(host)
        self.log = (logs or Path(db).parent) / f"serve-{self.port}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, wait: bool = True) -> Served:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "stackscripts", "serve", "--bind", f"{self.host}:{self.port}", "--db", str(self.db)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=ROOT, env=self.env)
        if wait:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited {self.process.returncode}:\n{self.log.read_text()}")
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return self
                except OSError:
                    time.sleep(0.1)
            raise RuntimeError(f"serve did not listen in 30 s:\n{self.log.read_text()}")
        return self

    def stop(self) -> int | None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return None if self.process is None else self.process.returncode

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None,
          form: Mapping[str, str] | None = None, timeout: float = 30) -> tuple[int, dict[str, str], str]:
    """One request (redirects not followed): status, headers (lower-case names), body text."""
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        method = "POST"
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def envelope(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    status, _, body = fetch(url, **kwargs)
    return status, json.loads(body)



class Viewer(threading.Thread):
    """One live viewer: reads a run's server-sent events in a thread, each (arrival time, kind, data, id), until
    the run's end or `stop()`."""

    def __init__(self, url: str, path: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parsed.hostname or "127.0.0.1", parsed.port or 80, path
        self.headers = dict(headers or {})
        self.events: list[tuple[float, str, Any, str | None]] = []
        self.connected = threading.Event()
        self.error: BaseException | None = None
        self._conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        try:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self._conn.request("GET", self.path, headers=self.headers)
            response = self._conn.getresponse()
            assert response.status == 200, response.status
            self.connected.set()
            for kind, data, seq in parse_sse(response):
                self.events.append((time.time(), kind, data, seq))
                if kind == "run":
                    return
        except BaseException as exc:  # kept for the test to raise
            self.error = exc
        finally:
            self.connected.set()

    def stop(self) -> None:
        if self._conn is not None and self._conn.sock is not None:
            self._conn.sock.shutdown(socket.SHUT_RDWR)

    def output(self) -> list[tuple[int, str]]:
        """(seq, text) of each output event, in arrival order."""
        return [(int(seq or 0), data["text"]) for _, kind, data, seq in self.events if kind == "output"]


def parse_sse(response: Any) -> Iterator[tuple[str, Any, str | None]]:
    """Server-sent events from a response: (event, JSON data, id); comments skipped."""
    kind, data, seq = "message", "", None
    while True:
        line = response.readline()
        if not line:
            return
        text = line.decode().rstrip("\r\n")
        if not text:
            if data:
                yield kind, json.loads(data), seq
            kind, data, seq = "message", "", None
        elif text.startswith(":"):
            continue
        elif text.startswith("event: "):
            kind = text[7:]
        elif text.startswith("data: "):
            data += text[6:]
        elif text.startswith("id: "):
            seq = text[4:]
