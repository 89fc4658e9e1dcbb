"""System parts the tests need. Missing parts skip locally and fail under CI=true."""

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
