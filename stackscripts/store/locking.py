"""The per-server run lock and the interruption of runs whose controller died."""

from __future__ import annotations

import sqlite3

from ..errors import Conflict
from ..model import RunState
from .liveness import Controller, is_alive
from .rows import format_time

RUNNING = RunState.RUNNING.value


def controller_of(row: sqlite3.Row) -> Controller:
    return Controller(row["controller_host"], row["controller_pid"], row["controller_start"],
                      row["controller_boot"])


def interrupt(conn: sqlite3.Connection, run_id: str, now: float) -> None:
    """Mark a running run interrupted, close its open steps and release its lock."""
    conn.execute("UPDATE runs SET state = ?, ended = ? WHERE id = ? AND state = ?",
                 (RunState.INTERRUPTED.value, now, run_id, RUNNING))
    conn.execute("UPDATE steps SET error = COALESCE(error, 'interrupted'), ended = ? "
                 "WHERE run_id = ? AND ended IS NULL", (now, run_id))
    conn.execute("DELETE FROM locks WHERE run_id = ?", (run_id,))


def check_lock(conn: sqlite3.Connection, server: str, now: float, host: str) -> None:
    """Raise Conflict if a live run holds the server; release a dead or stale holder."""
    holder = conn.execute(
        "SELECT runs.* FROM locks JOIN runs ON runs.id = locks.run_id WHERE locks.server = ?",
        (server,)).fetchone()
    if holder is None or holder["state"] != RUNNING:
        conn.execute("DELETE FROM locks WHERE server = ?", (server,))
        return
    controller = controller_of(holder)
    if is_alive(controller, host=host) is False:
        interrupt(conn, holder["id"], now)
        return
    raise Conflict(
        f"{server} is busy: run {holder['id']} ({holder['phase']}) started at "
        f"{format_time(holder['started'])} by {controller.describe()} is still running")


def dead_runs(conn: sqlite3.Connection, host: str) -> list[str]:
    """Ids of running runs started on this host by processes that are gone."""
    running = conn.execute("SELECT * FROM runs WHERE state = ? AND controller_host = ? "
                           "ORDER BY id", (RUNNING, host)).fetchall()
    return [row["id"] for row in running if is_alive(controller_of(row), host=host) is False]
