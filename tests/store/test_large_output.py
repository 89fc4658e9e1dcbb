"""Output of any size on both backends: a real step on a loopback sshd prints SIZE bytes (base64 of random bytes),
the store keeps every byte in ordered chunks with offsets, and `runs log` streams them back byte-exact in a process
whose memory stays bounded (it reads a page of chunks at a time, never the whole step).

SIZE is 100 MB as issue 11 asks (about 20 s per backend here); STACKSCRIPTS_TEST_OUTPUT_MB makes it another size.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runner.fixtures import SshdPool, sshd_pool  # noqa: F401 - fixture
from tests.runner.helpers import Step
from tests.store.controllers import World, world  # noqa: F401 - fixture
from tests.support.cli import cli_command, cli_env

pytestmark = pytest.mark.timeout(600)

SIZE = int(float(os.environ.get("STACKSCRIPTS_TEST_OUTPUT_MB", "100")) * 1_000_000)
PEAK_MIB = 200  # what `runs log` may use at most, whatever the step's size


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# A fresh, small interpreter starts `runs log` and reports its child's peak RSS: measured from the test process
# itself, the fork would count the test process's own memory (a long suite's pytest can hold a gigabyte).
MEASURE = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def runs_log(world: World, *args: str, into: Path) -> float:
    """Run `runs log ARGS` with stdout into a file; its peak memory in MiB."""
    with into.open("wb") as out:
        done = subprocess.run([sys.executable, "-c", MEASURE, *cli_command("runs", "log", *args)],
                              env=cli_env(world.env()), stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=300, check=False)
    errors = done.stderr.decode(errors="replace").strip().splitlines()
    assert done.returncode == 0, "\n".join(errors)
    return int(errors[-1]) / 1024


def test_a_step_of_any_size_reads_back_byte_exact(world: World, tmp_path: Path) -> None:
    world.add("web1")
    raw = SIZE * 3 // 4 * 76 // 77  # base64 makes 4 of 3, and a newline every 76
    body = f'head -c {raw} /dev/urandom | base64 | tee "$OUT_DIR/printed"\necho "done" >&2\n'
    template = world.template([Step("Flood", body, {"OUT_DIR": None})])
    booted = world.json("boot", "web1", "-t", template, "--quiet", timeout=500)["data"]
    printed = world.out / "printed"
    size = printed.stat().st_size
    assert abs(size - SIZE) < SIZE // 100

    run_id = booted["run_id"]
    log = tmp_path / "log"
    peak = runs_log(world, run_id, "1", "--stdout", into=log)
    assert log.stat().st_size == size and sha256_of(log) == sha256_of(printed)
    assert peak < PEAK_MIB, f"runs log peaked at {peak:.0f} MiB for {size / 1e6:.0f} MB of output"
    peak = runs_log(world, run_id, "1", "--raw", into=log)  # both streams, the exact bytes
    assert log.stat().st_size == size + len("done\n") and peak < PEAK_MIB

    # Ordered chunks, each at its byte offset in the step's output: no gap, no overlap, nothing truncated.
    rows = world.backend.sql("SELECT byte_offset, length(text) FROM chunks WHERE run_id = ? AND idx = 0 "
                             "ORDER BY id", (run_id,))
    assert len(rows) > 1 and rows[0][0] == 0
    assert all(int(after[0]) == int(before[0]) + int(before[1]) for before, after in zip(rows, rows[1:], strict=False))
    assert int(rows[-1][0]) + int(rows[-1][1]) == size + len("done\n")
