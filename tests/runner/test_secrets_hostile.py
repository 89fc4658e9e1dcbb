"""Secrets against a hostile step: split across stdout and stderr, or too short to mask safely."""

from __future__ import annotations

import secrets

import pytest

from stackscripts.masking import MASK
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step
from tests.support.cli import run_cli

pytestmark = pytest.mark.timeout(120)

# The first half on stdout, the second on stderr, flushed separately: a terminal shows the whole secret.
# (Nothing is written after it: SSH carries the two streams apart, so output written to both at nearly
# the same moment may arrive in either order; docs/guarantees.md says what that means for masking.)
ACROSS = """\
half=$(( ${#DB_PASSWORD} / 2 ))
printf 'token: %s' "${DB_PASSWORD:0:$half}"
sleep 0.2
printf '%s\\n' "${DB_PASSWORD:$half}" >&2
"""


def test_secret_split_across_stdout_and_stderr_is_masked_everywhere(bench: Bench) -> None:
    (web,) = bench.add(1)
    secret = f"s3cr3t-{secrets.token_hex(12)}"
    template = bench.template([Step("Across", ACROSS, {"DB_PASSWORD": None})],
                              inputs={"DB_PASSWORD": "cred:DB_PASSWORD"})
    bench.controller.close()
    done = run_cli("boot", web, "-t", str(template), "--db", str(bench.db),
                   env={"STACKSCRIPTS_CRED_DB_PASSWORD": secret})
    assert done.returncode == 0, done.stderr
    half = len(secret) // 2
    terminal = done.stdout + done.stderr
    assert secret[:half] not in terminal and secret[half:] not in terminal, terminal
    assert MASK in terminal
    run_id = bench.reopen().runs(web)[0].id
    for stream in ("stdout", "stderr", "output"):
        log = run_cli("runs", "log", run_id, "1", *([f"--{stream}"] if stream != "output" else []),
                      "--db", str(bench.db))
        assert log.returncode == 0, log.stderr
        assert secret[:half] not in log.stdout and secret[half:] not in log.stdout, (stream, log.stdout)
    exported = run_cli("runs", "export", run_id, "--json", "--db", str(bench.db))
    assert secret[:half] not in exported.stdout and secret[half:] not in exported.stdout
    page = bench.tmp / "report.html"
    assert run_cli("report", run_id, "--html", str(page), "--db", str(bench.db)).returncode == 0
    html = page.read_text()
    assert "token: " in html and secret[:half] not in html and secret[half:] not in html
    raw = bench.db.read_bytes() + (bench.db.with_name(bench.db.name + "-wal").read_bytes()
                                   if bench.db.with_name(bench.db.name + "-wal").exists() else b"")
    assert secret[:half].encode() not in raw and secret[half:].encode() not in raw


@pytest.mark.parametrize("value", ["a", "ab", "abc"])
def test_short_credentials_are_refused(bench: Bench, value: str) -> None:
    (web,) = bench.add(1)
    template = bench.template([Step("Across", ACROSS, {"DB_PASSWORD": None})],
                              inputs={"DB_PASSWORD": "cred:DB_PASSWORD"})
    bench.controller.close()
    done = run_cli("boot", web, "-t", str(template), "--db", str(bench.db),
                   env={"STACKSCRIPTS_CRED_DB_PASSWORD": value})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "credential 'DB_PASSWORD' is" in done.stderr and "at least 4" in done.stderr
    assert "Traceback" not in done.stderr
