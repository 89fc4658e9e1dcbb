"""Step output through the store: read in pieces, followed as it streams from any machine, pruned when old.

    from stackscripts.api import output
    with Controller(db) as c:
        run, step = output.find_step(c.store, "r-20261129", 2)             # step 2 (counted from 1)
        for data in output.read(c.store, run.id, step.index): ...           # the bytes, a page at a time
        for data in output.follow(c.store, run.id, step.index): ...         # as they arrive; ends with the step
        output.prune(c.store, "90d", dry_run=True)                           # what would be removed

What `runs log`, `runs log --follow` and `runs prune` call (docs/team-store.md).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from ..errors import BadInput, NotFound
from ..model import RunState
from ..store.base import OutputChunk, PruneResult, RunRecord, StepRecord, Store

__all__ = ["PruneResult", "find_step", "follow", "human_size", "parse_age", "prune", "read", "step_end"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")


def parse_age(text: str) -> float:
    """Seconds in an age such as 90d, 12h, 30m, 45s, 2w; BadInput for anything else."""
    match = _AGE.fullmatch(text or "")
    if match is None:
        raise BadInput(f"{text!r} is not an age", hint="Write a number and a unit: 90d, 12h, 30m, 45s or 2w.")
    return float(match.group(1)) * _UNITS[match.group(2)]


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # not reached


def find_step(store: Store, run_id: str, step: int, *, wait: bool = False) -> tuple[RunRecord, StepRecord | None]:
    """A run (any unique part of its id) and its step `step` (counted from 1), without output. NotFound for a step
    it does not have, unless wait and the run still runs (the step may start: None); NotFound for pruned output."""
    run = store.get_run(run_id, output=False)
    found = next((s for s in run.steps if s.index == step - 1), None)
    if found is None:
        if wait and run.state is RunState.RUNNING and step >= 1:
            return run, None
        have = ", ".join(str(s.index + 1) for s in run.steps) or "none"
        raise NotFound(f"run {run.id} has no step {step}", hint=f"It has steps {have}.")
    if found.pruned is not None:
        raise NotFound(f"the output of step {step} ({found.name}) of run {run.id} was pruned: "
                       f"{human_size(found.pruned)} removed by 'stackscripts runs prune'",
                       hint=f"Its timing and exit code are kept: stackscripts runs show {run.id}.")
    return run, found


def _only(chunks: Iterator[OutputChunk], stream: str | None) -> Iterator[bytes]:
    for chunk in chunks:
        if stream is None or chunk.stream == stream:
            yield chunk.data


def read(store: Store, run_id: str, index: int, stream: str | None = None) -> Iterator[bytes]:
    """A step's output (both streams interleaved, or one), a page at a time."""
    return _only(store.read_output(run_id, index), stream)


def follow(store: Store, run_id: str, index: int, stream: str | None = None) -> Iterator[bytes]:
    """A step's output as it arrives, from whichever controller runs it; ends when the step ends."""
    return _only(store.follow_output(run_id, index), stream)


def step_end(store: Store, run_id: str, index: int) -> StepRecord | None:
    """The step as it ended (its exit code, error), read again after following it."""
    run = store.get_run(run_id, output=False)
    return next((s for s in run.steps if s.index == index), None)


def prune(store: Store, older_than: str | float, *, dry_run: bool = False) -> PruneResult:
    """Remove the output of runs that ended more than `older_than` ago (seconds, or an age: 90d); runs, steps,
    their timings and exit codes stay. dry_run: only say what would go."""
    seconds = parse_age(older_than) if isinstance(older_than, str) else float(older_than)
    if not seconds >= 0:
        raise BadInput(f"an age of {older_than!r} is not a number of seconds of 0 or more")
    return store.prune_output(time.time() - seconds, dry_run=dry_run)
