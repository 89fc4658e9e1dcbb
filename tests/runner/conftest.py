"""Runner end-to-end tests: real sshd servers on 127.0.0.1, real bash, a real SQLite audit store."""

from __future__ import annotations

from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401
