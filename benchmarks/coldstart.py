"""Cold start, side by side: each command is run once per round, rounds interleaved, after one warm-up
round (so the page cache is equally warm for all). The console scripts are run directly from their
environments' bin folders, never through a pyenv shim.
"""

from __future__ import annotations

import subprocess
import sys
import time

from .timing import Sample, tool_env


def run(commands: dict[str, list[str]], repeat: int) -> list[Sample]:
    samples = {label: Sample(label, "cold start") for label in commands}
    for round_no in range(repeat + 1):
        for label, args in commands.items():
            sample = samples[label]

            def once(args: list[str] = args) -> float:
                started = time.perf_counter()
                done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, timeout=60, env=tool_env())
                elapsed = time.perf_counter() - started
                if done.returncode != 0:
                    raise RuntimeError(f"exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
                return elapsed

            if round_no == 0:  # warm-up, not counted
                try:
                    once()
                except Exception as exc:  # noqa: BLE001
                    sample.error = str(exc)
                continue
            sample.add(once)
    return list(samples.values())


def python_floor() -> dict[str, list[str]]:
    return {"python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import fabric'": [sys.executable, "-c", "import fabric"]}
