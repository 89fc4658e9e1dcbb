"""A child process that runs one stackscripts fleet boot and reports its time and peak memory.

    python -m benchmarks.probe SPEC.json [--import-only]

SPEC.json: {"db": PATH, "template": PATH, "servers": [{"name", "user", "host", "port", "key"}...]}.
It imports nothing but stackscripts (no pytest, no test helpers), so the RSS high-water mark the
parent reads with os.wait4 is the controller's own. `py-spy record -- python -m benchmarks.probe
SPEC.json` profiles exactly what the harness times.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    started = time.perf_counter()
    from stackscripts.api.controller import Controller
    from stackscripts.api.fleet import fleet_boot

    imported = time.perf_counter()
    elapsed = 0.0
    if "--import-only" not in argv:
        with Controller(spec["db"]) as controller:
            for s in spec["servers"]:
                controller.add_server(s["name"], f"{s['user']}@{s['host']}", s["port"], s["key"])
            names = [s["name"] for s in spec["servers"]]
            begin = time.perf_counter()
            result = fleet_boot(controller, names, spec["template"], parallel=len(names))
            elapsed = time.perf_counter() - begin
            if not result.ok:
                bad = [f"{o.server}: {o.status} {o.message}" for o in result.outcomes if o.status != "succeeded"]
                print(json.dumps({"error": "; ".join(bad)[:800]}))
                return 1
    print(json.dumps({"import_s": imported - started, "boot_s": elapsed,
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
