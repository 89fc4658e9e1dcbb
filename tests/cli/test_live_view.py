"""The live view (cli/live.py StreamPrinter): a wrapped line keeps its `server │` prefix on every piece, and a
progress bar drawn with carriage returns shows its last state, not every frame glued together.

Half of it feeds events to the printer on a real rich Console of a chosen width; half boots a real sshd server
through the real CLI (stdout is a pipe: 200 columns).
"""

from __future__ import annotations

import io
import re

from rich.console import Console

from stackscripts.cli.live import StreamPrinter
from stackscripts.events import StepFinished, StepOutput
from stackscripts.model import StepResult
from tests.runner.fixtures import Bench, SshdPool, bench, sshd_pool  # noqa: F401 - fixtures
from tests.runner.helpers import Step
from tests.support.cli import no_traceback, run_cli

WIDTH = 40
PREFIX = "  web1 │ "


def printed(*chunks: tuple[str, str], width: int = WIDTH) -> list[str]:
    """The lines a StreamPrinter prints for these (stream, text) chunks of one step, then its end."""
    screen = io.StringIO()
    printer = StreamPrinter(Console(file=screen, width=width, color_system=None, highlight=False, soft_wrap=False))
    for stream, text in chunks:
        printer(StepOutput("r-1", "web1", 0, stream, text))
    printer(StepFinished("r-1", "web1", StepResult(0, "Step", 0, 0.0, 1.0)))
    lines = screen.getvalue().splitlines()
    assert lines[-1].startswith("✓ web1 step 1")
    return lines[:-1]


def test_a_long_line_wraps_with_the_prefix_on_every_piece() -> None:
    words = " ".join(f"word{i:02d}" for i in range(30))
    unbroken = "x" * 100
    lines = printed(("stdout", words + "\n"), ("stderr", unbroken + "\n"))
    assert len(lines) > 4
    assert all(line.startswith(PREFIX) for line in lines), lines
    assert all(len(line) <= WIDTH for line in lines), lines
    text = [line.removeprefix(PREFIX) for line in lines]
    assert " ".join(t.strip() for t in text if "word" in t) == words  # nothing lost, words not split
    assert "".join(t for t in text if "x" in t) == unbroken


def test_carriage_return_progress_collapses_to_its_last_state() -> None:
    lines = printed(
        ("stdout", "downloading  10%\rdownloading  55%\r"),  # frames arrive in pieces, without a newline
        ("stdout", "downloading 100%\n"),
        ("stdout", "crlf ending\r\n"),
        ("stdout", "\r\n"),
        ("stdout", "unfinished 1/3\runfinished 3/3"),  # no newline before the step ends
    )
    assert lines == [f"{PREFIX}downloading 100%", f"{PREFIX}crlf ending", PREFIX,
                     f"{PREFIX}unfinished 3/3"]  # fmt: skip


def test_a_progress_bar_without_newlines_does_not_pile_up() -> None:
    screen = io.StringIO()
    printer = StreamPrinter(Console(file=screen, width=WIDTH, color_system=None))
    for percent in range(10_000):
        printer(StepOutput("r-1", "web1", 0, "stdout", f"\r{percent / 100:6.2f}%"))
    assert len(printer.partial[("web1", "stdout")]) < 20
    printer(StepFinished("r-1", "web1", StepResult(0, "Step", 0, 0.0, 1.0)))
    assert screen.getvalue().splitlines()[0] == f"{PREFIX} 99.99%"


PROGRESS = Step("Progress", r"""
for p in 0 25 50 75 100; do printf '\rfetching %3d%%' "$p"; sleep 0.05; done
printf '\n'
printf 'long:%s:end\n' "$(printf 'y%.0s' $(seq 1 450))"
""")


def test_the_cli_live_view_of_a_real_boot(bench: Bench) -> None:
    (web,) = bench.add(1)
    template = bench.template([PROGRESS])
    bench.controller.close()
    done = run_cli("boot", web, "-t", str(template), "--db", str(bench.db))
    assert done.returncode == 0, done.stderr
    no_traceback(done.stdout + done.stderr)
    output = [line for line in done.stdout.splitlines() if "│" in line or re.fullmatch(r"y+(:end)?", line.strip())]
    assert output and all(line.startswith(f"  {web} │ ") for line in output), done.stdout
    pieces = [line.removeprefix(f"  {web} │ ") for line in output]
    assert pieces[0] == "fetching 100%"
    assert "".join(pieces[1:]) == "long:" + "y" * 450 + ":end"
    assert all(len(line) <= 200 for line in output)
