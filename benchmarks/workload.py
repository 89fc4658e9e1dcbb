"""The benchmark workload: N identical-shape bash steps, written once for every tool.

Each step reads an input (MSG_n from the environment), prints lines to stdout and stderr and
writes a file under $OUT_DIR/$STACKSCRIPTS_SERVER. Every tool gets the same body and the same
environment, and `verify` checks afterwards that every host really ran every step.
"""

from __future__ import annotations

import shlex
from pathlib import Path

STEP_BODY = """\
set -eu
d="$OUT_DIR/$STACKSCRIPTS_SERVER"
mkdir -p "$d"
echo "step {n} stdout: $MSG_{n}"
echo "step {n} working in $d"
echo "step {n} stderr: $MSG_{n}" >&2
echo "step {n} note: all is well" >&2
printf '%s\\n' "$MSG_{n}" > "$d/step{n}.txt"
echo "step {n} done"
"""


def message(n: int) -> str:
    return f"message-{n}"


def body(n: int) -> str:
    return STEP_BODY.format(n=n)


def step_env(n: int, out_dir: Path, server: str) -> dict[str, str]:
    """The environment step n gets on server (what stackscripts' inputs resolve to)."""
    return {"OUT_DIR": str(out_dir), "STACKSCRIPTS_SERVER": server, f"MSG_{n}": message(n)}


def env_command(env: dict[str, str], command: str) -> str:
    """`env K=V ... command`, every value shell-quoted."""
    pairs = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"env {pairs} {command}"


def write_step_files(folder: Path, steps: int) -> list[Path]:
    """Plain executable bash files step1.sh..stepN.sh (raw ssh reads them on stdin; ansible's `script`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(1, steps + 1):
        path = folder / f"step{n}.sh"
        path.write_text("#!/bin/bash\n" + body(n))
        path.chmod(0o755)
        paths.append(path)
    return paths


def one_call_script(out_dir: Path, server: str, steps: int) -> str:
    """All steps as one bash script: each in its own subshell with its own environment."""
    parts = []
    for n in range(1, steps + 1):
        exports = "; ".join(f"export {k}={shlex.quote(v)}" for k, v in step_env(n, out_dir, server).items())
        parts.append(f"( {exports}\n{body(n)}) || exit $?\n")
    return "".join(parts)


def rightscript(n: int) -> str:
    """Step n as a RightScript with its metadata block (inputs OUT_DIR and MSG_n)."""
    return (
        "#!/bin/bash\n# ---\n"
        f"# RightScript Name: Bench step {n}\n"
        "# Inputs:\n"
        "#   OUT_DIR:\n#     Input Type: single\n#     Required: true\n"
        f"#   MSG_{n}:\n#     Input Type: single\n#     Required: false\n#     Default: text:{message(n)}\n"
        "# ...\n" + body(n)
    )


def write_template(folder: Path, out_dir: Path, steps: int) -> Path:
    """A ServerTemplate whose Boot phase is steps 1..N; OUT_DIR is set at template level."""
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    lines = [f"Name: Benchmark {steps} steps", "Inputs:", f"  OUT_DIR: 'text:{out_dir}'", "RightScripts:", "  Boot:"]
    for n in range(1, steps + 1):
        (folder / "scripts" / f"step{n}.sh").write_text(rightscript(n))
        lines.append(f"  - scripts/step{n}.sh")
    template = folder / "template.yaml"
    template.write_text("\n".join(lines) + "\n")
    return template


def verify(out_dir: Path, servers: list[str], steps: int) -> None:
    """Raise if any server is missing a step's file or its content is wrong."""
    for server in servers:
        for n in range(1, steps + 1):
            path = out_dir / server / f"step{n}.txt"
            try:
                text = path.read_text()
            except OSError:
                raise RuntimeError(f"{server}: step {n} did not run (no {path})") from None
            if text != message(n) + "\n":
                raise RuntimeError(f"{server}: step {n} wrote {text!r} to {path}")
