"""Helpers for the pure unit tests: write small scripts and templates into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """write("scripts/x.sh", text) -> the path; text is dedented, a leading newline dropped."""

    def _write(rel: str, text: str = "", *, raw: bytes | None = None) -> Path:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
        return path

    return _write

