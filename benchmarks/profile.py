"""Where a `stackscripts fleet boot` process spends its CPU: py-spy samples of real runs, sorted into parts.

`py-spy record --nonblocking --format raw` samples every thread that is on a CPU (idle waits are left out),
`rate` times a second, without stopping the process. A sample inside an import is start-up; any other
goes to the part that owns its innermost frame (`PARTS`, first match from the innermost frame outwards):
a `sqlite3` call made by the store is the store's, a `paramiko` packet the SSH library's.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .stack import cli_command

IMPORTS = "start-up: imports"
PARTS = (  # (part, substrings of a frame's file; the first part with a match in the innermost frame wins)
    ("SSH: crypto and packets (paramiko, cryptography, nacl)",
     ("paramiko/packet", "paramiko/kex", "paramiko/pkey", "paramiko/ed25519", "paramiko/rsakey", "paramiko/ecdsa",
      "paramiko/message", "paramiko/util", "cryptography/", "nacl/", "bcrypt/")),
    ("SSH: connection, channels (paramiko's other parts)", ("paramiko/",)),
    ("Fabric and invoke", ("fabric/", "invoke/")),
    ("stackscripts transport (per-connection runner, output pump)", ("stackscripts/transport/",)),
    ("store (SQLite)", ("stackscripts/store/", "sqlite3/")),
    ("recording: events, masking, recorder", ("stackscripts/events", "stackscripts/recorder", "stackscripts/masking")),
    ("planning: templates, scripts, inputs, revisions, rendering",
     ("stackscripts/plan", "stackscripts/catalog/", "stackscripts/templates", "stackscripts/inputs/",
      "stackscripts/revisions/", "stackscripts/render/", "stackscripts/yamlsrc", "stackscripts/api/pin", "yaml/")),
    ("run loop: controller, executor, fleet", ("stackscripts/api/", "stackscripts/executor")),
    ("CLI: click, options, output", ("stackscripts/cli/", "click/")),
    ("stackscripts, other", ("stackscripts/",)),
    ("threads, pools, locks", ("threading.py", "concurrent/futures", "queue.py", "selectors.py")),
)
OTHER = "Python runtime, other"


def part_of(frames: list[str]) -> str:
    if any("_find_and_load" in frame for frame in frames):
        return IMPORTS
    for frame in reversed(frames):
        where = frame.rsplit("(", 1)[-1]
        for part, needles in PARTS:
            if any(needle in where for needle in needles):
                return part
    return OTHER


def parse(raw: str) -> Counter[str]:
    """Samples per part from py-spy's raw (collapsed) output: `frame;frame;... COUNT` per line."""
    parts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            parts[part_of(stack.split(";"))] += int(count)
    return parts


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    return found


def profile(servers: list[SshdServer], runs: int, rate: int) -> tuple[Counter[str], int]:
    """Samples per part over `runs` checked fleet boots of all servers x 5 steps; and the rate."""
    total: Counter[str] = Counter()
    spy = py_spy()
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bm-spy-") as tmp:
            out_dir = Path(tmp) / "out"
            out_dir.mkdir()
            raw = Path(tmp) / "spy.txt"
            args, env = cli_command(servers, out_dir, 5)
            done = subprocess.run([spy, "record", "--nonblocking", "--format", "raw", "--rate", str(rate), "-o",
                                   str(raw), "--", *args], env=env, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"py-spy record exited {done.returncode}: {done.stderr[-600:]}")
            workload.verify(out_dir, [f"web{i}" for i in range(1, len(servers) + 1)], 5)
            total.update(parse(raw.read_text()))
    return total, rate


def table(parts: Counter[str], rate: int, runs: int, steps: int) -> list[str]:
    """Markdown rows: CPU ms per run by part, and per step for the parts after start-up."""
    every = sum(parts.values())
    lines = ["| Part | CPU per run | share | per step |", "|---|---|---|---|"]
    for part, samples in parts.most_common():
        ms = samples / rate * 1000 / runs
        per = "" if part == IMPORTS else f"{ms / steps:.2f} ms"
        lines.append(f"| {part} | {ms:.0f} ms | {samples / every * 100:.0f}% | {per} |")
    lines.append(f"| all | {every / rate * 1000 / runs:.0f} ms | 100% | "
                 f"{(every - parts[IMPORTS]) / rate * 1000 / runs / steps:.2f} ms (after imports) |")
    return lines
