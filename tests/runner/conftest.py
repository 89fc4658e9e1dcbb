"""Runner end-to-end tests: real sshd servers on 127.0.0.1, real bash, a real SQLite audit store."""

from __future__ import annotations

import sys
from pathlib import Path

# `pytest tests/runner` alone must still find the `tests` package (see tests/transport/conftest.py).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: E402,F401
