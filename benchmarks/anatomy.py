"""`python -m benchmarks.anatomy`: where one step's time goes on an open SSH connection.

Builds the remote side of a step up piece by piece (a channel with a login shell, the payload on
stdin, the private run directory, unpacking the bundle, the wrapper's bash, `timeout`) and times
each variant against one real sshd on loopback; then a real stackscripts step through the
transport, and a whole recorded step through the Controller. Writes docs/performance-anatomy.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRAPPER = b'#!/bin/bash\nexec bash "${BASH_SOURCE[0]%/*}/script"\n'
STEP = """#!/bin/bash
# ---
# RightScript Name: Tiny
# Inputs: {}
# ...
echo hi
"""


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(repeat: int) -> list[tuple[str, float]]:
    from stackscripts.api.controller import Controller
    from stackscripts.transport.remote import build_bundle_tar
    from stackscripts.transport.ssh import SSHTransport
    from tests.support.sshd import start_sshd

    server = start_sshd("anatomy")
    rows: list[tuple[str, float]] = []
    try:
        with SSHTransport().open(server.host_spec()) as session:
            files = {"run.sh": (0o700, WRAPPER), "script": (0o700, b"echo hi\n")}
            payload = build_bundle_tar(files)
            unpack = f'head -c {len(payload)} | tar -x -m -p -o -f - -C "$d"'
            variants = [
                ("channel + login shell (`true`)", "true", b""),
                ("+ payload on stdin, mkdir and rm the run dir", 'd=/tmp/a.$$; mkdir -m 700 "$d"; rm -rf "$d"', payload),
                (r"+ unpack the bundle (`head -c N \| tar -x`)",
                 f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; rm -rf "$d"', payload),
                ("+ the wrapper's bash and the script", f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; '
                 'bash "$d/run.sh" </dev/null; rm -rf "$d"', payload),
                ("+ `timeout` around it", f'd=/tmp/a.$$; mkdir -m 700 "$d"; {unpack}; '
                 'timeout -k 5 0 bash "$d/run.sh" </dev/null; rm -rf "$d"', payload),
            ]
            for label, command, data in variants:
                rows.append((label, median_ms(lambda c=command, d=data: session._exec(c, d, None, None), repeat)))
            rows.append(("stackscripts transport: `run_bundle` (watchdog, process-group sweep)",
                         median_ms(lambda: session.run_bundle(files), repeat)))
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "tiny.sh"
            script.write_text(STEP)
            template = Path(tmp) / "t.yaml"
            steps = "".join("  - tiny.sh\n" for _ in range(repeat))
            template.write_text(f"Name: Anatomy\nRightScripts:\n  Boot:\n{steps}")
            with Controller(Path(tmp) / "audit.db") as c:
                c.add_server("anatomy", f"{server.user}@{server.host}", server.port, server.key_path)
                c.boot("anatomy", template)  # connect, record the host key, warm up
                start = time.perf_counter()
                c.boot("anatomy", template)
                per_step = (time.perf_counter() - start) * 1000 / repeat
            rows.append((f"whole recorded step through the Controller (boot of {repeat} steps, divided; "
                         "includes connecting once)", per_step))
    finally:
        server.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.anatomy", description=__doc__)
    p.add_argument("--repeat", type=int, default=40)
    p.add_argument("--output", default="docs/performance-anatomy.md")
    args = p.parse_args(argv)
    rows = measure(args.repeat)
    lines = ["# Anatomy of one step", "",
             f"Medians of {args.repeat} runs on one open SSH connection to a real sshd on loopback "
             f"(`python -m benchmarks.anatomy`, {time.strftime('%Y-%m-%d')}). Each row adds one piece to the "
             "remote command; the last rows are stackscripts' own paths.", "",
             "| Remote side of a step | ms |", "|---|---|"]
    lines += [f"| {label} | {ms:.1f} |" for label, ms in rows]
    text = "\n".join(lines) + "\n"
    (ROOT / args.output).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
