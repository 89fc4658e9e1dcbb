"""What a `stackscripts fleet boot` process imports: `python -X importtime` of a real 1-host run, checked
against the heavy libraries a fleet boot on SQLite does not use."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.sshd import SshdServer

from . import workload
from .report import Imports
from .stack import cli_command

# Libraries of other commands (the web face, the team store, clouds, the queue, registries): none belongs in a
# fleet boot on SQLite.
UNWANTED = ("rich", "sqlalchemy", "psycopg", "psycopg_pool", "boto3", "botocore", "libcloud", "docker",
            "procrastinate", "jinja2", "requests", "urllib3", "flask", "starlette", "uvicorn", "cryptography.x509")


def parse(stderr: str) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, indented module name) per `import time:` line."""
    found = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            found.append((int(parts[0]), int(parts[1]), parts[2].rstrip()))
    return found


def measure(server: SshdServer, scratch: Path, python: str, top: int = 12) -> Imports:
    """One checked 1-host fleet boot under `-X importtime`; the import total, the costliest, the unwanted."""
    out_dir = scratch / "imports" / "out"
    out_dir.mkdir(parents=True)
    args, env = cli_command([server], out_dir, 5, python, "-X", "importtime")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"fleet boot under -X importtime exited {done.returncode}: {done.stderr[-600:]}")
    workload.verify(out_dir, ["web1"], 5)
    rows = parse(done.stderr)
    names = {name.strip() for _, _, name in rows}
    unwanted = sorted(n for n in names if n in UNWANTED or any(n.startswith(u + ".") for u in UNWANTED))
    tops = sorted(((cum / 1000, name.strip()) for _, cum, name in rows if not name.startswith("  ")), reverse=True)
    return Imports(total_ms=sum(own for own, _, _ in rows) / 1000, modules=len(rows), top=tops[:top],
                   unwanted=unwanted)
