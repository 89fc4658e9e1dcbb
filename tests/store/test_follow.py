"""`runs log RUN STEP --follow` on both backends: a step on a real sshd, started by one CLI process, followed by
another; every line arrives while the step still runs, and the follower ends when the step does.

The step prints three lines, then waits for a file the test creates only once the follower has printed them: so
those lines provably reached the follower while the step was running (no timing is assumed).
"""

from __future__ import annotations

import queue
import subprocess
import threading

import pytest

from tests.runner.fixtures import SshdPool, sshd_pool  # noqa: F401 - fixture
from tests.runner.helpers import Step
from tests.store.controllers import World, world  # noqa: F401 - fixture
from tests.support.cli import no_traceback

pytestmark = pytest.mark.timeout(240)


def lines_of(child: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The child's stdout lines as they come (None at its end), read by a thread."""
    found: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            found.put(line)
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    return found


def step_ended(world: World, run_id: str) -> bool:
    return world.backend.sql("SELECT ended FROM steps WHERE run_id = ? AND idx = 0", (run_id,))[0][0] is not None


def test_follow_prints_a_running_step_as_it_streams_and_ends_with_it(world: World) -> None:
    world.add("web1")
    go = world.out / "go"
    body = (f'for i in 1 2 3; do echo "line $i"; sleep 0.3; done\n'
            f'while [ ! -e "{go}" ]; do sleep 0.1; done\n'
            'echo "line 4"; echo "a warning" >&2; echo "line 5"\nexit 3\n')
    template = world.template([Step("Talk", body, {"OUT_DIR": None})])
    boot = world.spawn("boot", "web1", "-t", template, "--quiet")
    run_id = world.wait_for_step("web1", 0)

    follower = world.spawn("runs", "log", run_id[-4:], "1", "--follow")
    arrived = lines_of(follower)
    for n in (1, 2, 3):
        assert arrived.get(timeout=30) == f"line {n}\n"
    assert not step_ended(world, run_id) and follower.poll() is None  # the step waits for us: still running
    go.touch()
    rest = []
    while (line := arrived.get(timeout=60)) is not None:
        rest.append(line)
    assert sorted(rest) == ["a warning\n", "line 4\n", "line 5\n"]  # (two streams: their order is the pump's)
    assert follower.wait(timeout=30) == 0  # the step ended (exit 3): the follower ends, and says how
    assert follower.stderr is not None
    err = follower.stderr.read()
    assert err == f"stackscripts: step 1 (Talk) of run {run_id} ended: exit code 3\n", err
    assert boot.wait(timeout=60) == 1

    # A finished step: --follow prints it all and ends at once, as does --json with how it ended.
    done = world.run("runs", "log", run_id, "1", "--follow", "--stderr")
    assert (done.returncode, done.stdout) == (0, "a warning\n")
    assert done.stderr == f"stackscripts: step 1 (Talk) of run {run_id} ended: exit code 3\n"
    doc = world.json("runs", "log", run_id, "1", "--follow")["data"]
    assert doc["text"] == "line 1\nline 2\nline 3\n" + "".join(rest)  # as it streamed
    assert (doc["exit_code"], doc["error"]) == (3, None) and doc["ended"] is not None


def test_follow_waits_for_a_step_that_has_not_started(world: World) -> None:
    world.add("web1")
    go = world.out / "go"
    first = Step("Wait", f'while [ ! -e "{go}" ]; do sleep 0.1; done\necho first\n')
    second = Step("Second", "echo second\n")
    template = world.template([first, second])
    boot = world.spawn("boot", "web1", "-t", template, "--quiet")
    run_id = world.wait_for_step("web1", 0)
    follower = world.spawn("runs", "log", run_id, "2", "--follow")
    arrived = lines_of(follower)
    go.touch()
    assert arrived.get(timeout=60) == "second\n" and arrived.get(timeout=30) is None
    assert follower.wait(timeout=30) == 0 and boot.wait(timeout=60) == 0

    missing = world.run("runs", "log", run_id, "3", "--follow")  # the run ended without a step 3
    assert missing.returncode == 2 and f"run {run_id} has no step 3" in missing.stderr
    no_traceback(missing.stderr)
