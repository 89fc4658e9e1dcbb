"""Reading an audit store file from the test process while another process writes it."""

from __future__ import annotations

from pathlib import Path


def stored_output(db: Path) -> str:
    """Every step's output the file holds now, read through the store's own reader (as `runs log` would)."""
    from stackscripts.store.sqlite import SQLiteStore

    with SQLiteStore(db) as store:
        return "".join(step.output for run in store.list_runs(limit=0) for step in store.get_run(run.id).steps)
