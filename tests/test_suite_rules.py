"""The suite's own promises, checked on its source: one way to skip (a missing part, through
tests/support/parts.py, which fails under CI=true) and one process finder (tests/support/procs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
RAW_SKIP = re.compile(r"pytest\.skip\(|\.skipif\(|mark\.skip\b|importorskip\(|pytest\.xfail\(|mark\.xfail\b")
PGREP = re.compile(r"""["']pgrep["']""")  # pgrep run from Python (a remote shell command may use it)


def sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p != Path(__file__))


def offenders(pattern: re.Pattern[str], allowed: set[str]) -> list[str]:
    found = []
    for path in sources():
        rel = path.relative_to(TESTS).as_posix()
        if rel in allowed:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"tests/{rel}:{number}: {line.strip()}")
    return found


def test_no_test_skips_by_hand() -> None:
    """A test that needs a part calls require()/require_binary() (tests/support/parts.py)."""
    assert offenders(RAW_SKIP, {"support/parts.py"}) == []


def test_processes_are_found_through_support_procs() -> None:
    assert offenders(PGREP, set()) == []


def test_a_skip_under_ci_is_a_failure(pytester: pytest.Pytester) -> None:
    """tests/conftest.py's hook, on a test that skips by hand: skipped locally, failed with CI=true."""
    pytester.makeconftest((TESTS / "conftest.py").read_text("utf-8"))
    pytester.makepyfile(test_skipper="import pytest\n\ndef test_it():\n    pytest.skip('no frobnicator')\n")
    pytester.syspathinsert(str(TESTS.parent))
    for ci, outcome in (("", {"skipped": 1}), ("true", {"failed": 1})):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CI", ci)
            result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        result.assert_outcomes(**outcome)
        if ci:
            assert "skipped under CI=true: no frobnicator" in result.stdout.str()
