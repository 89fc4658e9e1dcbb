"""The boot-time table (reports.table): the seed's durations, TOTAL, n/a, the delta column, phases, failures."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from stackscripts.reports.html import render_html
from stackscripts.reports.table import LAUNCH_ROW, as_data, compare, fmt, render
from stackscripts.store.base import RunRecord, ServerRecord, StepRecord
from stackscripts.store.sqlite import SQLiteStore

T0 = 1_764_000_000.0  # a fixed clock: 2025-11-24

SERVICES = "Install & launch zookeeper, redis, kafka, mariadb, graphite, statsd"
# The seed's table (DESIGN.md). Durations carry tenths so that, as in the seed, the rounded
# rows need not add up to the rounded TOTAL: 53+36+4m57+2m23 shows 8m50s.
DOCKER = [("Prep VM environment", 36.3), (SERVICES, 297.3), ("Install & launch custom apps", 143.2)]
SCRIPT = [("Prep VM environment", 16.3), (SERVICES, 65.3), ("Install ruby", 54.3),
          ("Install & launch custom apps", 183.3)]

SEED_TABLE = f"""\
| Boot time steps | docker r-docker | script r-script | delta |
|---|---|---|---|
| {LAUNCH_ROW} | 53s | 49s | -4.7s |
| Prep VM environment | 36s | 16s | -20s |
| {SERVICES} | 4m57s | 1m5s | -3m52s |
| Install ruby | n/a | 54s | n/a |
| Install & launch custom apps | 2m23s | 3m3s | +40s |
| TOTAL | 8m50s | 6m8s | -2m42s |
"""


def make_run(run_id: str, server: str, steps: Sequence[tuple[str, float]], *, phase: str = "Boot",
             start: float = T0, failed: Sequence[int] = (), state: str = "succeeded") -> RunRecord:
    """A run whose steps follow each other from start; indexes in `failed` exited 1."""
    records, at = [], start
    for index, (name, seconds) in enumerate(steps):
        code = 1 if index in failed else 0
        records.append(StepRecord(run_id, index, name, phase, started=at, ended=at + seconds, exit_code=code))
        at += seconds
    return RunRecord(run_id, server, phase, state, started=start, ended=at, steps=tuple(records))


def launched(name: str, seconds: float, boot_start: float = T0) -> ServerRecord:
    """A server whose instance reached SSH `seconds` after its launch, just before boot_start."""
    return ServerRecord(name=name, extra={"launch_started": boot_start - seconds - 0.2, "ssh_ready": boot_start - 0.2})


def seed_runs() -> tuple[list[RunRecord], dict[str, ServerRecord]]:
    docker = make_run("r-docker", "docker", DOCKER)
    script = make_run("r-script", "script", SCRIPT, start=T0 + 86_400)
    return [docker, script], {"docker": launched("docker", 53.3), "script": launched("script", 48.6, T0 + 86_400)}


@pytest.mark.parametrize("seconds, text", [
    (None, "n/a"), (0.0, "0.0s"), (0.04, "0.0s"), (2.54, "2.5s"), (9.94, "9.9s"), (9.96, "10s"), (53.3, "53s"),
    (59.6, "1m0s"), (65, "1m5s"), (297.3, "4m57s"), (530.1, "8m50s"), (367.8, "6m8s"), (3723, "1h02m03s"),
    (-162.3, "-2m42s"), (-4.2, "-4.2s"),
])
def test_durations_in_the_seeds_style(seconds: float | None, text: str) -> None:
    assert fmt(seconds) == text


def test_reproduces_the_seed_table() -> None:
    runs, servers = seed_runs()
    assert render(compare(runs, servers)) == SEED_TABLE


def test_one_run_has_no_delta_column_and_no_launch_row_without_launch_data() -> None:
    run = make_run("r-1", "web1", [("Install Docker", 19.2), ("Check Containers", 0.84)])
    assert render(compare([run])) == (
        "| Boot time steps | web1 r-1 |\n|---|---|\n| Install Docker | 19s |\n| Check Containers | 0.8s |\n"
        "| TOTAL | 20s |\n")


def test_launch_row_only_for_a_first_boot_that_started_after_ssh_was_ready() -> None:
    boot = make_run("r-1", "web1", [("A", 5.0)])
    server = launched("web1", 12.0)
    assert compare([boot], {"web1": server}).rows[0].values == (pytest.approx(12.0),)
    resumed = RunRecord("r-2", "web1", "Boot", "succeeded", started=T0 + 600, steps=boot.steps, resumed_from="r-1")
    later = RunRecord("r-3", "web1", "Boot", "succeeded", started=T0 - 3600, steps=boot.steps)  # before the launch
    operational = make_run("r-4", "web1", [("A", 5.0)], phase="Operational")
    for run in (resumed, later, operational):
        assert [row.label for row in compare([run], {"web1": server}).rows] == ["A"]


def test_failed_steps_are_marked_and_unfinished_runs_listed_under_the_table() -> None:
    ok = make_run("r-ok", "web1", [("Install", 10.0), ("Configure", 3.0), ("Start", 2.0)])
    bad = make_run("r-bad", "web2", [("Install", 12.0), ("Configure", 1.5)], failed=[1], state="failed")
    text = render(compare([ok, bad]))
    assert "| Configure | 3.0s | 1.5s ✗ | -1.5s |" in text
    assert "| Start | 2.0s | n/a | n/a |" in text
    assert "| TOTAL | 15s | 14s | -1.5s |" in text
    assert text.endswith("| TOTAL | 15s | 14s | -1.5s |\nweb2 r-bad: failed\n")
    errored = RunRecord("r-x", "web3", "Boot", "interrupted", started=T0, steps=(
        StepRecord("r-x", 0, "Install", "Boot", started=T0, ended=T0 + 4, exit_code=None, error="run ended"),))
    assert "| Install | 4.0s ✗ |" in render(compare([errored]))


def test_phases_are_grouped_when_runs_of_different_phases_are_compared() -> None:
    boot = make_run("r-1", "web1", [("Install", 10.0), ("Start", 2.0)])
    operational = make_run("r-2", "web1", [("Restart", 4.0), ("Start", 1.0)], phase="Operational")
    boot2 = make_run("r-3", "web2", [("Prepare", 1.0), ("Install", 8.0), ("Tune", 1.0), ("Start", 2.0)])
    comparison = compare([boot, operational, boot2])
    assert [row.label for row in comparison.rows] == [
        "Boot: Prepare", "Boot: Install", "Boot: Tune", "Boot: Start", "Operational: Restart", "Operational: Start"]
    assert [row.values for row in comparison.rows][-2:] == [(None, 4.0, None), (None, 1.0, None)]
    assert comparison.totals == (12.0, 5.0, 12.0)
    assert "| Boot: Tune | n/a | n/a | 1.0s | n/a |" in render(comparison)
    # one phase throughout: no prefixes
    assert [row.label for row in compare([boot, boot2]).rows] == ["Prepare", "Install", "Tune", "Start"]


def test_a_step_name_seen_twice_in_a_run_keeps_both_rows() -> None:
    run = make_run("r-1", "web1", [("Check", 1.0), ("Deploy", 5.0), ("Check", 2.0)])
    again = make_run("r-2", "web1", [("Check", 1.5), ("Deploy", 4.0), ("Check", 2.5)])
    comparison = compare([run, again])
    assert [(row.label, row.values) for row in comparison.rows] == [
        ("Check", (1.0, 1.5)), ("Deploy", (5.0, 4.0)), ("Check (2)", (2.0, 2.5))]
    assert comparison.totals == (8.0, 8.0)
    assert "| TOTAL | 8.0s | 8.0s | 0.0s |" in render(comparison)


def test_pipes_in_step_names_do_not_break_the_table() -> None:
    text = render(compare([make_run("r-1", "web1", [("grep a | sort", 1.0)])]))
    assert "| grep a \\| sort | 1.0s |" in text
    assert all(len(re.split(r"(?<!\\)\|", line)) == 4 for line in text.splitlines())  # two cells a row


def test_as_data_is_json_ready() -> None:
    runs, servers = seed_runs()
    data = as_data(compare(runs, servers))
    assert data["runs"] == [{"id": "r-docker", "server": "docker", "phase": "Boot", "state": "succeeded"},
                            {"id": "r-script", "server": "script", "phase": "Boot", "state": "succeeded"}]
    ruby = next(row for row in data["rows"] if row["step"] == "Install ruby")
    assert ruby["seconds"] == [None, pytest.approx(54.3)] and ruby["failed"] == [False, False]
    assert [round(t, 1) for t in data["totals"]] == [530.1, 367.8]


def test_runs_recorded_in_a_real_store(tmp_path: Path) -> None:
    """Runs written through the SQLiteStore API, their clocks set afterwards, read back for the table."""
    db = tmp_path / "audit.db"
    with SQLiteStore(db) as store:
        ids = {}
        for server, steps in (("docker", DOCKER), ("script", SCRIPT)):
            store.put_server(ServerRecord(name=server, host="127.0.0.1"))
            run_id = store.start_run(server, "Boot", who="tester", template=None, inputs={})
            for index, (name, _) in enumerate(steps):
                store.start_step(run_id, index, name, "Boot", sha256="", inputs={})
                store.append_output(run_id, index, "stdout", f"{name}\n")
                store.finish_step(run_id, index, 0, None)
            store.finish_run(run_id, "succeeded")
            ids[server] = run_id
    conn = sqlite3.connect(db)
    with conn:
        for server, steps, start in (("docker", DOCKER, T0), ("script", SCRIPT, T0 + 86_400)):
            conn.execute("UPDATE runs SET started = ? WHERE id = ?", (start, ids[server]))
            at = start
            for index, (_, seconds) in enumerate(steps):
                conn.execute("UPDATE steps SET started = ?, ended = ? WHERE run_id = ? AND idx = ?",
                             (at, at + seconds, ids[server], index))
                at += seconds
    conn.close()
    with SQLiteStore(db) as store:
        store.update_server("docker", extra=dict(launched("docker", 53.3).extra))
        store.update_server("script", extra=dict(launched("script", 48.6, T0 + 86_400).extra))
        runs = [store.get_run(ids["docker"]), store.get_run(ids["script"])]
        servers = {name: store.get_server(name) for name in ("docker", "script")}
    expected = SEED_TABLE.replace("r-docker", ids["docker"]).replace("r-script", ids["script"])
    assert render(compare(runs, servers)) == expected


def test_html_of_a_comparison_lines_runs_up_and_holds_no_url() -> None:
    runs, servers = seed_runs()
    page = render_html(runs, servers)
    assert page.startswith("<!doctype html>") and "<table>" in page
    assert "http://" not in page and "https://" not in page and "src=" not in page
    assert page.count('class="bar"') == 7 and page.count('class="bar launch"') == 2
    assert 'data-step="Install ruby"' in page and "&amp; launch custom apps" in page
    # a day apart: each run starts at 0 on its own clock (the launch bar first)
    assert page.count('data-step="' + LAUNCH_ROW + '" style="left:0.000%') == 2
    assert "<td class=num>8m50s</td>" in page and "<td class=num>-2m42s</td>" in page
    failed = make_run("r-f", "web1", [("Boom", 1.0)], failed=[0], state="failed")
    assert 'class="bar failed" data-step="Boom"' in render_html([failed])


def staged_run(run_id: str, server: str, steps: Sequence[tuple[str, str | None, float]], start: float) -> RunRecord:
    """A run whose steps carry their template entries' Stage (None: no Stage)."""
    records, at = [], start
    for index, (name, stage, seconds) in enumerate(steps):
        records.append(StepRecord(run_id, index, name, "Boot", started=at, ended=at + seconds, exit_code=0,
                                  stage=stage))
        at += seconds
    return RunRecord(run_id, server, "Boot", "succeeded", started=start, ended=at, steps=tuple(records))


def test_steps_with_a_stage_share_its_row_across_templates_that_split_the_work_differently() -> None:
    prep, services, apps = "Prep VM environment", "Install & launch the services", "Install & launch the apps"
    docker = staged_run("r-docker", "docker", [
        ("Install Docker", prep, 20.0), ("Setup btrfs", prep, 10.0), ("Registry keys", prep, 6.0),
        ("Launch Service Containers", services, 297.0), ("Launch App Containers", apps, 140.0),
        ("Check Services", None, 3.0)], T0)
    script = staged_run("r-script", "script", [
        ("Packages Prep", prep, 16.0), ("Packages Install Services", services, 40.0),
        ("Packages Install Graphite", services, 25.0), ("Packages Install Ruby", "Install ruby", 54.0),
        ("Packages Launch Apps", apps, 183.0), ("Check Services", None, 2.0)], T0 + 1000)
    comparison = compare([docker, script])
    assert [(row.label, row.values) for row in comparison.rows] == [
        (prep, (36.0, 16.0)), (services, (297.0, 65.0)), ("Install ruby", (None, 54.0)), (apps, (140.0, 183.0)),
        ("Check Services", (3.0, 2.0))]
    assert comparison.totals == (476.0, 320.0)
    table = render(comparison)
    assert "| Install ruby | n/a | 54s | n/a |" in table and "| TOTAL | 7m56s | 5m20s | -2m36s |" in table
