"""Shared fixtures and the suite's rules: the repository root, the session's moto server, script files,
and no skipped test under CI=true."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.moto import MotoServer, moto_fixture  # noqa: E402
from tests.support.parts import IN_CI  # noqa: E402
from tests.support.rightscripts import write_rightscript  # noqa: E402

pytest_plugins = ("pytester",)  # tests/test_suite_rules.py runs the hook below in a child pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skip is a failure, whatever asked for it (tests/support/parts.py is the one way to
    need a part; this catches the rest, e.g. a plugin or a new test that skips by hand)."""
    outcome: Any = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {reason} (CI never skips a test: install the missing part)"


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the session (EC2, S3, SSM, Secrets Manager)."""
    yield from moto_fixture()


@pytest.fixture
def make_script(tmp_path: Path) -> Callable[..., Path]:
    """make_script(name, body, inputs=..., attachments={file: text}, shebang=...) writes tmp_path/scripts/NAME.sh
    (tests/support/rightscripts.py: `inputs` maps names to defaults, or is YAML text under `Inputs:`)."""

    def make(name: str, body: str, inputs: Any = None, attachments: dict[str, str] | None = None,
             shebang: str = "#!/bin/bash") -> Path:
        return write_rightscript(tmp_path / "scripts", name, body, inputs=inputs, attachments=attachments or {},
                                 shebang=shebang or None)

    return make
