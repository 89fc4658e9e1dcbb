"""A step that reads another concurrent run's secret on the same machine shows it masked.

Two server records point at one real sshd (two names for one machine). Run A holds a credential in its step's
environment and sleeps; run B, started by the same Controller while A runs, reads A's step process environment
(`/proc/PID/environ`, PID from a file A wrote) and prints it. The controller masks B's output with every secret
it holds for that machine, not only B's own: B's terminal and B's record show the mask, never A's value.
"""

from __future__ import annotations

import io
import secrets
import threading

import pytest
from rich.console import Console

from stackscripts.cli.live import StreamPrinter
from stackscripts.masking import MASK
from stackscripts.model import RunResult
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

HOLDER = """\
d="$OUT_DIR/shared"; mkdir -p "$d"
echo $$ > "$d/a.pid"
for _ in $(seq 600); do [ -e "$d/go" ] && break; sleep 0.1; done
echo "holder done"
"""
READER = """\
d="$OUT_DIR/shared"
pid=$(cat "$d/a.pid")
echo "reading /proc/$pid/environ"
tr '\\0' '\\n' < "/proc/$pid/environ" | grep '^A_TOKEN='
touch "$d/go"
"""


def test_a_concurrent_runs_secret_read_from_proc_is_masked(bench: Bench, monkeypatch: pytest.MonkeyPatch) -> None:
    server = bench.pool.take(1)[0]
    bench.add_one("machine-a", server)
    bench.add_one("machine-b", server)  # another record, the same sshd: the same machine
    secret = f"a-{secrets.token_hex(12)}"
    monkeypatch.setenv("STACKSCRIPTS_CRED_A_TOKEN", secret)
    holder = bench.template([Step("Holder", HOLDER, {"OUT_DIR": None, "A_TOKEN": None})],
                            inputs={"A_TOKEN": "cred:A_TOKEN"})
    reader = bench.template([Step("Reader", READER, {"OUT_DIR": None})])
    screen = io.StringIO()
    bench.controller.bus.subscribe(StreamPrinter(Console(file=screen, width=200, color_system=None)))
    pid_file = bench.out / "shared" / "a.pid"

    results: dict[str, RunResult | BaseException] = {}

    def run_a() -> None:
        try:
            results["a"] = bench.controller.boot("machine-a", holder)
        except BaseException as exc:  # reported by the assertions below
            results["a"] = exc

    thread = threading.Thread(target=run_a)
    thread.start()
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() or "a" in results, 60,
                   "run A's step to write its pid")
        b = bench.controller.boot("machine-b", reader)
    finally:
        (bench.out / "shared").mkdir(parents=True, exist_ok=True)
        (bench.out / "shared" / "go").touch()
        thread.join(60)
    a = results["a"]
    assert isinstance(a, RunResult) and a.ok, a
    assert b.ok, b

    shown = screen.getvalue()
    assert f"A_TOKEN={MASK}" in shown, shown  # B read A's environment (the line is there), masked
    assert secret not in shown
    record = bench.controller.get_run(b.run_id)
    assert f"A_TOKEN={MASK}" in record.steps[0].output
    assert secret not in record.steps[0].output and secret.encode() not in record.steps[0].raw()
    assert secret not in b.steps[0].stdout
    raw = b"".join(p.read_bytes() for p in bench.db.parent.glob(bench.db.name + "*"))
    assert secret.encode() not in raw  # nowhere in the store file, its WAL included
