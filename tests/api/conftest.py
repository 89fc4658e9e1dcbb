"""The Python API as a caller uses it: real sshd servers (tests/runner/fixtures.py), a real audit store."""

from __future__ import annotations

from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401
