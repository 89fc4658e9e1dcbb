"""Small helpers shared by the unit tests (import as tests.unit.helpers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from tests.support.rightscripts import block

__all__ = ["GOLDEN", "bad_input", "block", "line_of"]

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def bad_input(fn: Callable[[], object]) -> BadInput:
    """Run fn, which must raise BadInput; return the exception."""
    with pytest.raises(BadInput) as info:
        fn()
    return info.value


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing fragment (so tests never hard-code numbers)."""
    for number, line in enumerate(text.split("\n"), 1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in text")
