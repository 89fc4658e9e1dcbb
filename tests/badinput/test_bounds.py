"""Values that parse but make no sense are refused: a NaN or endless Timeout, a billion Retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackscripts.executor import retry_pause
from tests.runner.helpers import cli, no_traceback

HERE = Path(__file__).parent

TEMPLATE = """Name: T
Inputs:
  GREETING: text:hi
RightScripts:
  Boot:
  - Script: {script}
    {setting}
"""


@pytest.mark.parametrize(("setting", "expect"), [
    ("Timeout: .nan", "Timeout must be a number of seconds above 0 and at most 604,800 (a week), not nan"),
    ("Timeout: .inf", "not inf"),
    ("Timeout: 0", "not 0"),
    ("Timeout: 1000000000000", "not 1000000000000"),
    ("Retries: 1000000000000", "Retries must be a whole number from 0 to 10, not 1000000000000"),
    ("Retries: -1", "not -1"),
])
def test_out_of_range_step_settings(tmp_path: Path, setting: str, expect: str) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(TEMPLATE.format(script=HERE / "good" / "hello.sh", setting=setting))
    result = cli("templates", "validate", str(template))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{template}:7:" in result.stderr and expect in result.stderr, result.stderr
    no_traceback(result.stderr)


def test_retries_back_off() -> None:
    assert [retry_pause(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
