"""A real moto server on loopback, standing in for AWS APIs: the one moto starter of the tests.

The `moto_server` fixture (tests/conftest.py) is one server for the whole session, shared by the EC2, S3,
SSM and Secrets Manager tests; a test that needs a differently configured server starts its own with
start_moto(env=...) and stops it with stop().
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .net import free_port, wait_for_port
from .parts import require
from .procs import stop


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    process: subprocess.Popen[bytes]
    log: Path

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (and our AWS code) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }

    def stop(self) -> None:
        stop(self.process)
        self.log.unlink(missing_ok=True)


def start_moto(env: Mapping[str, str] | None = None, timeout: float = 30.0) -> MotoServer:
    """Start `python -m moto.server` on a free port. moto[server] not installed is a missing part (skips
    locally, fails under CI); a server that is installed but does not start is a failure everywhere."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require(False, "moto[server] (pip install 'moto[server]')")
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, **(env or {})})
    if not wait_for_port(port, timeout=timeout) or process.poll() is not None:
        process.kill()
        process.wait(timeout=10)
        tail = log.read_text(errors="replace")[-3000:]
        log.unlink(missing_ok=True)
        raise RuntimeError(f"moto server did not start on 127.0.0.1:{port} within {timeout}s:\n{tail}")
    return MotoServer(f"http://127.0.0.1:{port}", process, log)


def moto_fixture(env: Mapping[str, str] | None = None) -> Iterator[MotoServer]:
    """Body of a fixture: a server for the fixture's scope."""
    server = start_moto(env)
    try:
        yield server
    finally:
        server.stop()
