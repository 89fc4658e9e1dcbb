"""Serving the dashboard with uvicorn (the only module importing it): the socket, the logs (tokens redacted).

    serve(Controller(db), "127.0.0.1", 8080)       # until SIGINT/SIGTERM
    handle = start(Controller(db), "127.0.0.1", 18080)   # in a thread (tests, benchmarks); handle.stop()
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from ..api.controller import Controller
from ..errors import BadInput
from .app import SecurityHeaders, create_app
from .auth import redact_logs

LOGGED = ("uvicorn", "uvicorn.error", "uvicorn.access", "stackscripts")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "stackscripts.web.auth.RedactFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "access": {"()": "uvicorn.logging.AccessFormatter", "use_colors": False,
                   "fmt": '%(asctime)s access %(client_addr)s "%(request_line)s" %(status_code)s'},
    },
    "handlers": {
        "plain": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain",
                  "filters": ["redact"]},
        "access": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "access",
                   "filters": ["redact"]},
    },
    "loggers": {
        "uvicorn": {"handlers": ["plain"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "stackscripts": {"handlers": ["plain"], "level": "INFO", "propagate": False},
    },
}


def listen(host: str, port: int) -> socket.socket:
    """The listening socket; BadInput (exit 2) naming the address when it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                       hint="Pick another --bind HOST:PORT (a free port, an address of this machine).") from None
    sock.set_inheritable(True)
    return sock


def _server(app: SecurityHeaders, access_log: bool = True) -> uvicorn.Server:
    config = uvicorn.Config(app, log_config=LOGGING, access_log=access_log, server_header=False, proxy_headers=False,
                            lifespan="off", timeout_graceful_shutdown=2, timeout_keep_alive=5)
    return uvicorn.Server(config)


def serve(controller: Controller, host: str, port: int, *, ready: Any = None) -> None:
    """Serve until SIGINT or SIGTERM; `ready(url)` is called once it listens."""
    sock = listen(host, port)
    server = _server(create_app(controller))
    redact_logs(*LOGGED)
    if ready is not None:
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{sock.getsockname()[1]}/")
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again under the handler it found: a quiet one here,
    # so that stopping the dashboard is a clean exit (0), not a death by the signal
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stopped(signum: int, frame: Any) -> None:
    """The signal uvicorn raises again once it has shut down: nothing more to do."""


@dataclass
class Handle:
    """A dashboard served from a thread of this process."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str
    app: SecurityHeaders

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(controller: Controller, host: str, port: int, *, access_log: bool = False) -> Handle:
    """Serve from a thread (tests, benchmarks) and return once it answers."""
    sock = listen(host, port)
    app = create_app(controller)
    server = _server(app, access_log)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    return Handle(server, thread, f"http://{host}:{sock.getsockname()[1]}", app)
