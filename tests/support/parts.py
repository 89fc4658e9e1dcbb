"""System parts the tests need: the one skip mechanism of the suite.

A test (or fixture) that needs a part of the machine (sshd, Docker, chromium, loop devices, moto...) asks
with require()/require_binary(). A missing part skips the test locally and fails it when CI=true (`.ci/run`
exports it): CI never skips. Nothing else in tests/ calls pytest.skip or skipif (tests/test_suite_rules.py
checks), and tests/conftest.py turns any skip that still happens under CI into a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, part: str) -> None:
    """Skip (or, in CI, fail) when a part the test needs is missing."""
    if condition:
        return
    message = f"missing part: {part}"
    if IN_CI:
        pytest.fail(message + " (CI=true: missing parts are failures)", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, part: str | None = None) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    require(path is not None, part or name)
    return path  # type: ignore[return-value]


def require_proc() -> None:
    """Linux /proc (process start times, zombies, command lines)."""
    require(os.path.exists("/proc/self/stat"), "/proc (Linux)")
