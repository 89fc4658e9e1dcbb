"""Fixtures for the transport contract tests: real sshd servers, a transport, hand-made step bundles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackscripts.transport.base import HostSpec, Transport, transports
from stackscripts.transport.ssh import SSHSession, SSHTransport
from tests.support.parts import require_binary
from tests.support.sshd import SshdServer, start_many, start_sshd

# run.sh helper for test bundles: load the NUL-separated env file byte-exact, then remove it.
LOAD_ENV = """\
load_env() {
    while IFS= read -r -d '' rec; do export "${rec%%=*}=${rec#*=}"; done < env
    rm -f env
}
"""

BundleMaker = Callable[..., Path]


@pytest.fixture
def sshd() -> Iterator[SshdServer]:
    """One fresh sshd on 127.0.0.1 (its own host key and client key)."""
    server = start_sshd("web1")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sshd_factory() -> Iterator[Callable[[int], list[SshdServer]]]:
    """sshd_factory(n) starts n servers in parallel (web1..webN); all are torn down after the test."""
    started: list[SshdServer] = []

    def make(count: int) -> list[SshdServer]:
        servers = start_many(count)
        started.extend(servers)
        return servers

    try:
        yield make
    finally:
        for server in started:
            server.close()


class BashRunnerTransport(SSHTransport):
    """The SSH transport with its step runner under bash instead of /bin/sh (dash on Debian)."""

    def open(self, host: HostSpec) -> SSHSession:
        session = super().open(host)
        session.shell = require_binary("bash")
        return session


@pytest.fixture(params=["ssh", "ssh-runner-under-bash"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """Every registered transport the contract suite covers (today: ssh), its runner under /bin/sh and bash."""
    if request.param == "ssh-runner-under-bash":
        return BashRunnerTransport()
    return transports.get(request.param)()


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleMaker:
    """make_bundle(run_sh, env={...}, script="", attachments={name: (bytes, mode)}) -> bundle dir."""
    counter = iter(range(1_000_000))

    def make(
        run_sh: str,
        *,
        env: dict[str, str | bytes] | None = None,
        script: str = "#!/bin/bash\ntrue\n",
        attachments: dict[str, tuple[bytes, int]] | None = None,
    ) -> Path:
        bundle = tmp_path / f"bundle{next(counter)}"
        (bundle / "attachments").mkdir(parents=True)
        (bundle / "run.sh").write_text(LOAD_ENV + run_sh)
        (bundle / "script").write_text(script)
        (bundle / "script").chmod(0o755)
        records = b""
        for name, value in (env or {}).items():
            raw = value if isinstance(value, bytes) else value.encode()
            records += name.encode() + b"=" + raw + b"\0"
        (bundle / "env").write_bytes(records)
        (bundle / "env").chmod(0o644)  # the transport must still land it 0600
        for name, (data, mode) in (attachments or {}).items():
            path = bundle / "attachments" / name
            path.write_bytes(data)
            path.chmod(mode)
        return bundle

    return make
