"""Interrupts during a launch on the real local cloud leave nothing behind, and `terminate` finds what a killed
launch made.

- Two Ctrl-C 0.02-0.2 s apart (sent to the process group, as a terminal does, so they reach `losetup` too): the
  first starts the clean-up, the second cannot cut it short; exit 130, no container, loop device or state folder,
  the record `terminated`.
- SIGKILL during the create: the record keeps the launch token chosen before the create; `servers show` says the
  launch was interrupted (never `root@None:22`); `terminate` destroys what the cloud has under that token (the
  container, or the drives and folder of a create killed before its container existed) and says "nothing to
  destroy" only when there is nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.support.cli import ROOT, cli_command, cli_env, no_traceback
from tests.support.rightscripts import write_rightscript

from .conftest import Cli, docker_names, local_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

TEMPLATE = local_template("Sleeper", "sleeper.sh")


def loops_under(folder: Path) -> list[str]:
    out = subprocess.run(["losetup", "--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split(" ", 1)[0] for line in out.splitlines() if f" {folder}/" in line]


def leftovers(state: Path, name: str) -> list[str]:
    """What the local cloud still has of this instance: container, loop devices, state folder, /dev links."""
    found = [f"container {name}"] if docker_names(name) == [name] else []
    found += [f"loop device {loop}" for loop in loops_under(state)]
    found += [f"folder {p}" for p in (state / name, Path("/dev/stackscripts") / name) if p.exists()]
    return found


def recorded(db: Path, name: str) -> tuple[str | None, str | None, str | None]:
    """(state, node_id, host) of the server as the store file holds it now (read beside the writer)."""
    if not db.exists():
        return None, None, None
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute("SELECT state, node_id, host FROM servers WHERE name = ?", (name,)).fetchone()
    except sqlite3.Error:  # created a moment ago, not migrated yet
        return None, None, None
    return (row[0], row[1], row[2]) if row else (None, None, None)


class World:
    def __init__(self, cli: Cli, tmp_path: Path) -> None:
        self.state = tmp_path / "local-cloud"
        self.cli = Cli({**cli.env, "STACKSCRIPTS_LOCAL_STATE": str(self.state)}, tmp_path / "audit.db")
        write_rightscript(tmp_path, "Sleeper", 'echo "sleeping $SLEEP"\nsleep "$SLEEP"\n', inputs={"SLEEP": "text:60"})
        self.template = tmp_path / "sleeper.yaml"
        self.template.write_text(TEMPLATE)
        self.names: list[str] = []

    def name(self) -> str:
        self.names.append(f"intr-{uuid.uuid4().hex[:6]}")
        return self.names[-1]

    def spawn_launch(self, name: str) -> subprocess.Popen[str]:
        """`launch` in its own session (a terminal's foreground process group): signals go to the whole group."""
        argv = cli_command("launch", str(self.template), "--name", name, "--db", str(self.cli.db))
        return subprocess.Popen(argv, cwd=ROOT, env=cli_env(self.cli.env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def clean(self) -> None:
        from stackscripts.providers.local import LocalNodeDriver
        from stackscripts.providers.local.drives import release

        driver = LocalNodeDriver(ex_state_dir=self.state)
        for node in driver.list_nodes():
            if str(node.extra.get("state_dir", "")).startswith(f"{self.state}/"):
                driver.destroy_node(node)
        for home in self.state.glob("*"):
            release(home.name, home)


@pytest.fixture
def world(cli: Cli, tmp_path: Path) -> Iterator[World]:
    made = World(cli, tmp_path)
    try:
        yield made
    finally:
        made.clean()


def wait_for(check: Callable[[], object], proc: subprocess.Popen[str], what: str, timeout: float = 120) -> None:
    """Poll fast (1 ms) until check() is true; fail if the launch ends first."""
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the launch ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


@pytest.mark.parametrize(("moment", "gap"), [("created", 0.05), ("addressed", 0.02), ("addressed", 0.1),
                                             ("addressed", 0.2)])
def test_a_second_ctrl_c_does_not_cut_the_clean_up_short(world: World, moment: str, gap: float) -> None:
    name = world.name()
    proc = world.spawn_launch(name)
    try:
        if moment == "created":
            wait_for(lambda: docker_names(name), proc, "the container to exist")
        else:  # the instance has its address: the launch waits for SSH (or has begun to boot)
            wait_for(lambda: recorded(world.cli.db, name)[2], proc, "the address to be recorded")
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(gap)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, out + err
    no_traceback(out + err)
    assert leftovers(world.state, name) == [], err
    _, show = world.cli.json("servers", "show", name)
    assert show["data"]["state"] == "terminated"


@pytest.mark.parametrize("moment", ["folder made", "loop device attached", "container made"])
def test_terminate_after_a_sigkill_during_create_destroys_what_it_made(world: World, moment: str) -> None:
    name = world.name()
    proc = world.spawn_launch(name)
    try:
        if moment == "container made":
            wait_for(lambda: docker_names(name), proc, "the container to exist")
        elif moment == "loop device attached":
            wait_for(lambda: loops_under(world.state), proc, "a loop device")
        else:  # no container yet, its drives perhaps not either
            wait_for(lambda: (world.state / name).exists(), proc, "the instance folder")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    state, node_id, host = recorded(world.cli.db, name)
    assert state == "pending" and host is None
    left = leftovers(world.state, name)
    assert left, "the create left nothing: the kill came too late or too early for this case"

    shown = world.cli.run("servers", "show", name)
    assert shown.returncode == 0, shown.stderr
    assert "None" not in shown.stdout
    assert f"no address yet (launch interrupted; 'stackscripts terminate {name}' destroys what it made)" in shown.stdout

    done = world.cli.run("terminate", name)
    assert done.returncode == 0, done.stdout + done.stderr
    no_traceback(done.stdout + done.stderr)
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"{name}: terminated (destroyed "), (left, line, node_id)
    assert leftovers(world.state, name) == []
    again = world.cli.run("terminate", name)
    assert again.returncode == 0 and again.stdout == f"{name}: terminated (nothing to destroy)\n"
    _, show = world.cli.json("servers", "show", name)
    assert show["data"]["state"] == "terminated"


def test_ctrl_c_during_terminate_lets_the_destroy_finish(world: World) -> None:
    name = world.name()
    launch = world.spawn_launch(name)
    try:
        wait_for(lambda: recorded(world.cli.db, name)[0] == "booting", launch, "the boot to start")
    finally:
        if launch.poll() is None:
            os.killpg(launch.pid, signal.SIGKILL)  # an instance, recorded, whose controller is gone
        launch.wait(timeout=60)
    argv = cli_command("terminate", name, "--db", str(world.cli.db))
    proc = subprocess.Popen(argv, cwd=ROOT, env=cli_env(world.cli.env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "destroying what its launch made" in first, first
        for _ in range(2):  # Ctrl-C twice while the instance is being destroyed
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.02)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    no_traceback(out + err)
    assert proc.returncode in (0, 130), out + err  # 130 unless the destroy was over before the first Ctrl-C
    assert leftovers(world.state, name) == []
    _, show = world.cli.json("servers", "show", name)
    assert show["data"]["state"] == "terminated" and show["data"]["extra"]["destroyed"]
