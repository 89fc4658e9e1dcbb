"""A real moto server on loopback, standing in for AWS APIs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from .net import free_port, wait_for_port
from .parts import require


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    process: subprocess.Popen

    def env(self) -> dict[str, str]:
        """Environment that points boto3 (and our AWS code) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }


def start_moto() -> MotoServer:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require(False, "moto[server] (pip install 'moto[server]')")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    if not wait_for_port(port, timeout=30):
        process.kill()
        require(False, "moto server did not start")
    return MotoServer(f"http://127.0.0.1:{port}", process)


def moto_fixture() -> Iterator[MotoServer]:
    server = start_moto()
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
