"""Where a resumed run starts: the step that failed, or the one after the last that finished."""

from __future__ import annotations

from ..model import Phase
from ..store.base import RunRecord, Store


def resume_point(store: Store, run: RunRecord) -> int:
    """The failed step, or after the last finished one when the controller died between steps. A Decommission run
    went on past failures: its first failed script. A run that ended before its first step: where its origin
    stopped."""
    if run.phase == Phase.DECOMMISSION.value:
        failed = min((s.index for s in run.steps if s.exit_code != 0 or s.error), default=None)
    else:
        failed = store.last_failed_step(run.id)
    if failed is not None:
        return failed
    done = [s.index for s in run.steps if s.exit_code == 0 and not s.error]
    if done:
        return max(done) + 1
    if not run.steps and run.resumed_from:
        return resume_point(store, store.get_run(run.resumed_from))
    return min((s.index for s in run.steps), default=0)
