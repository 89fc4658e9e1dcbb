"""A resumed run as the whole run it finishes: the steps of the runs it continues, each once, and the time lost.

A boot that failed at step 3, was fixed and resumed is one boot made of two runs. Someone asking "why did this
boot take 8m50s" needs every step of it once, with the attempt that counted (the last one), and the step time
spent on attempts a resume ran again (the failed step, and anything after it an interrupted run had started),
told apart from the steps: the table gets a "Lost in failed runs" row and a note naming each failed run, the steps
it lost and the time between the runs, which is no step's time and is not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import StackscriptsError
from ..model import Phase
from ..store.base import RunRecord, StepRecord

LOST_ROW = "Lost in failed runs"
MAX_CHAIN = 100  # resumes of resumes followed back at most (a loop in a damaged store ends there)

History = Callable[[str], RunRecord]
"""Reads an earlier run by id (e.g. `controller.get_run`)."""


@dataclass(frozen=True)
class Lost:
    """Step time one earlier run spent on attempts that a later run of the chain ran again."""

    run_id: str
    seconds: float
    steps: tuple[str, ...]  # "step 3 Use Token"


@dataclass(frozen=True)
class Whole:
    """A run with the runs it resumes (oldest first): its steps each once (the last attempt), the time lost."""

    run: RunRecord  # the run asked for, its steps those of the whole run
    earlier: tuple[RunRecord, ...] = ()
    lost: tuple[Lost, ...] = ()
    between: float = 0.0  # seconds from each earlier run's end to the next run's start: no step ran

    @property
    def origin(self) -> RunRecord:
        """The run the whole run began with (its launch row, if any, is the whole run's)."""
        return self.earlier[0] if self.earlier else self.run

    @property
    def lost_seconds(self) -> float:
        return sum(lost.seconds for lost in self.lost)


def _seconds(step: StepRecord) -> float:
    return step.ended - step.started if step.started is not None and step.ended is not None else 0.0


def earlier_runs(run: RunRecord, history: History) -> tuple[RunRecord, ...]:
    """The runs `run` resumes, oldest first; the chain ends at a run that resumes nothing or one no longer kept."""
    chain: list[RunRecord] = []
    seen = {run.id}
    at = run
    while at.resumed_from and at.resumed_from not in seen and len(chain) < MAX_CHAIN:
        try:
            at = history(at.resumed_from)
        except StackscriptsError:  # e.g. removed from the store: the whole run starts where the record does
            break
        seen.add(at.id)
        chain.append(at)
    return tuple(reversed(chain))


def whole(run: RunRecord, history: History | None = None) -> Whole:
    """The run as the whole run it finishes (itself alone when it resumes nothing or there is no history)."""
    earlier = earlier_runs(run, history) if history is not None and run.resumed_from else ()
    if not earlier:
        return Whole(run)
    latest: dict[int, StepRecord] = {}
    superseded: dict[str, list[StepRecord]] = {}
    owner: dict[int, str] = {}
    for part in (*earlier, run):
        for step in sorted(part.steps, key=lambda s: s.index):
            if step.index in latest:
                superseded.setdefault(owner[step.index], []).append(latest[step.index])
            latest[step.index], owner[step.index] = step, part.id
    lost = tuple(Lost(part.id, sum(map(_seconds, superseded[part.id])),
                      tuple(f"step {s.index + 1} {s.name}" for s in superseded[part.id]))
                 for part in earlier if part.id in superseded)
    chain = (*earlier, run)
    between = sum(max(0.0, nxt.started - prev.ended) for prev, nxt in zip(chain, chain[1:], strict=False)
                  if prev.ended is not None and nxt.started)
    steps = tuple(latest[index] for index in sorted(latest))
    return Whole(replace(run, steps=steps), earlier, lost, between)


def note(item: Whole, fmt: Callable[[float | None], str]) -> str | None:
    """One line under the table for a whole run made of several runs; None for a run that resumes nothing."""
    if not item.earlier:
        return None
    run = item.run
    what = "boot" if run.phase == Phase.BOOT.value else f"{run.phase} run"
    begun = f"begun in {item.origin.id}"
    if len(item.earlier) > 1:
        begun += f" (resumed in {', '.join(r.id for r in item.earlier[1:])})"
    lost = " and ".join(f"{fmt(x.seconds)} lost in failed run {x.run_id} ({', '.join(x.steps)})" for x in item.lost)
    includes = f"includes {lost}" if lost else "no step time lost"
    return (f"{run.server} {run.id} finishes the {what} {begun}: each step shown once, its last attempt; "
            f"{includes}; {fmt(item.between)} between the runs not counted")


def as_data(item: Whole) -> dict[str, object]:
    """The chain as plain JSON data."""
    return {"run": item.run.id, "earlier": [r.id for r in item.earlier],
            "lost": [{"run": x.run_id, "seconds": x.seconds, "steps": list(x.steps)} for x in item.lost],
            "lost_seconds": item.lost_seconds, "between": item.between}
