"""A boot plan as cloud-init user-data that records each step's output and exit code on the instance."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Mapping

import yaml

from ..model import Plan
from .bundle import bundle_dirname, bundle_files

ROOT = "/var/lib/stackscripts/cloud-init"
LOG_DIR = "/var/log/stackscripts"

RUNNER_HEAD = f"""#!/bin/bash
# Runs the boot steps in order, recording each step's output, exit code and timing
# under {LOG_DIR}; stops at the first failing step (the server is then stranded).
set -u
mkdir -p {LOG_DIR} && chmod 700 {LOG_DIR}
printf 'step\\tname\\tstarted\\tended\\texit_code\\n' > {LOG_DIR}/steps.tsv
step() {{
  local dir="{ROOT}/steps/$1" started rc
  started=$(date +%s.%N)
  bash "$dir/run.sh" > "{LOG_DIR}/$1.stdout" 2> "{LOG_DIR}/$1.stderr"
  rc=$?
  printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$started" "$(date +%s.%N)" "$rc" >> {LOG_DIR}/steps.tsv
  rm -rf "$dir"
  if [ "$rc" -ne 0 ]; then echo stranded > {LOG_DIR}/state; exit "$rc"; fi
}}
"""


def runner_text(plan: Plan) -> str:
    lines = [RUNNER_HEAD]
    for step in plan.steps:
        lines.append(f"step {shlex.quote(bundle_dirname(step))} {shlex.quote(step.script.name)}\n")
    lines.append(f"echo operational > {LOG_DIR}/state\n")
    return "".join(lines)


def render_cloud_init(plan: Plan, envs: Mapping[int, Mapping[str, str]]) -> str:
    """envs maps a step index to its environment; files land 0600/0700 and the runner runs once."""
    files = []
    for step in plan.steps:
        base = f"{ROOT}/steps/{bundle_dirname(step)}"
        for rel, (mode, data) in bundle_files(step, envs[step.index]).items():
            if rel.endswith("/"):
                continue  # folders: write_files makes parents, the wrapper makes the rest
            files.append({
                "path": f"{base}/{rel}",
                "permissions": f"{mode:04o}",
                "owner": "root:root",
                "encoding": "b64",
                "content": base64.b64encode(data).decode("ascii"),
            })
    files.append({"path": f"{ROOT}/runner.sh", "permissions": "0700", "owner": "root:root",
                  "content": runner_text(plan)})
    doc = {"write_files": files, "runcmd": [["bash", f"{ROOT}/runner.sh"]]}
    header = (f"#cloud-config\n# ServerTemplate: {plan.template.name} ({plan.phase.value}, "
              f"{len(plan.steps)} steps), rendered by stackscripts\n")
    return header + yaml.safe_dump(doc, sort_keys=False, width=1000)
