"""Record every event of a run in the audit store, as it happens."""

from __future__ import annotations

from .events import Event, RunFinished, StepFinished, StepOutput, StepStarted
from .store.base import Store


class StoreRecorder:
    """An event subscriber: steps are committed before the next starts, output appended as it streams."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepOutput):
            self.store.append_output(event.run_id, event.index, event.stream, event.raw)
        elif isinstance(event, StepStarted):
            self.store.start_step(event.run_id, event.index, event.name, event.phase, sha256=event.sha256,
                                  inputs=event.inputs, stage=event.stage)
        elif isinstance(event, StepFinished):
            result = event.result
            self.store.finish_step(event.run_id, result.index, result.exit_code, result.error)
        elif isinstance(event, RunFinished):
            self.store.finish_run(event.run_id, event.result.state)
