"""What a step leaves on the server when it is stopped: nothing, not even its working directory."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from stackscripts.errors import RunFailed
from tests.runner.fixtures import Bench
from tests.runner.helpers import Step
from tests.support.waits import wait_until

pytestmark = pytest.mark.timeout(120)

WRITE_THEN_SLEEP = """\
d="$OUT_DIR/$STACKSCRIPTS_SERVER"; mkdir -p "$d"
printf 'private\\n' > private.txt
echo "$PWD" > "$d/workdir"
sleep 30
"""

def stopped_step(bench: Bench, web: str, stop: str) -> Path:
    """Run a step that writes into its working dir and sleeps, stop it; return that working dir."""
    step = Step("Write then sleep", WRITE_THEN_SLEEP, {"OUT_DIR": None}, timeout=1 if stop == "timeout" else None)
    template = bench.template([step])
    if stop == "timeout":
        with pytest.raises(RunFailed, match="timed out"):
            bench.controller.boot(web, template)
    else:
        worker = threading.Thread(target=lambda: pytest.raises(RunFailed, bench.controller.boot, web, template),
                                  daemon=True)
        worker.start()
        wait_until(lambda: (bench.out / web / "workdir").exists(), 20, "the step to start")
        bench.sshd[web].kill_sessions()
        worker.join(timeout=30)
        assert not worker.is_alive()
    return Path((bench.out / web / "workdir").read_text().strip())


@pytest.mark.parametrize("stop", ["timeout", "connection lost"])
def test_a_stopped_step_leaves_no_working_directory(bench: Bench, stop: str) -> None:
    (web,) = bench.add(1)
    workdir = stopped_step(bench, web, stop)
    try:
        assert workdir.name == "work", "the working directory lives inside the step's bundle"
        wait_until(lambda: not workdir.exists(), 2, f"{workdir} to be removed")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
