"""What travels to the server for one step: the bundle as a tar stream, and the fixed probe command.

Steps run in the connection's one runner (`runner.sh`, driven by `runner.py`): the tar stream, its
length, the step's timeout and two random names are all that is sent for a step, on the runner's
stdin. Secrets (the bundle's `env` file) travel inside the tar stream, never on a command line.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import BadInput

RUN_DIR_PREFIX = "/tmp/stackscripts."
KILL_AFTER = 5  # seconds between SIGTERM and SIGKILL when a step times out or its connection drops
SECRET_FILES = frozenset({"env"})  # always 0600 on the server


def format_seconds(seconds: float) -> str:
    """Seconds as short decimal text: 30 -> "30", 0.5 -> "0.5" (never exponent notation)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def command_with_timeout(command: str, timeout: float | None) -> str:
    """A fixed probe command, bounded by `timeout` (killing its whole process group) if given."""
    if timeout is None:
        return command
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    quoted = "'" + command.replace("'", "'\"'\"'") + "'"
    return f"timeout -k {KILL_AFTER} {format_seconds(max(timeout, 0.001))} sh -c {quoted} </dev/null"


BundleFiles = Mapping[str, tuple[int, bytes]]  # relative path -> (mode, bytes)


def read_bundle_dir(bundle_dir: Path) -> dict[str, tuple[int, bytes]]:
    """A bundle written to disk (`templates render -o`), as the in-memory mapping run_bundle takes."""
    bundle_dir = Path(bundle_dir)
    files: dict[str, tuple[int, bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(bundle_dir):
        dirnames.sort()
        for name in dirnames:
            path = Path(dirpath) / name
            files[path.relative_to(bundle_dir).as_posix() + "/"] = (stat.S_IMODE(path.stat().st_mode), b"")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            files[path.relative_to(bundle_dir).as_posix()] = (stat.S_IMODE(path.stat().st_mode), path.read_bytes())
    return files


def build_bundle_tar(files: BundleFiles, root: str = "") -> bytes:
    """Pack a step bundle into an in-memory tar stream: modes kept, env 0600, folders 0700.

    With `root`, every member is under that folder (itself a 0700 member, first): unpacked into /tmp,
    the stream makes the run directory itself, with no separate mkdir."""
    if "run.sh" not in files:
        raise BadInput("not a step bundle (no run.sh)")
    prefix = f"{root}/" if root else ""
    buffer = io.BytesIO()
    dirs: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def folder(name: str) -> None:
            if name not in dirs:
                dirs.add(name)
                info = tarfile.TarInfo(name)
                info.type, info.mode = tarfile.DIRTYPE, 0o700  # the run directory stays removable
                tar.addfile(info)

        if root:
            folder(root)
        for name in sorted(files):
            parts = name.rstrip("/").split("/")
            for depth in range(1, len(parts) + (0 if not name.endswith("/") else 1)):  # parents first
                folder(prefix + "/".join(parts[:depth]))
            if name.endswith("/"):
                continue
            mode, data = files[name]
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            info.mode = 0o600 if name in SECRET_FILES else mode
            tar.addfile(info, io.BytesIO(data))
    stream = buffer.getvalue()
    if len(stream) % tarfile.RECORDSIZE:  # the runner's GNU tar reads whole records only (-B -b 20)
        raise AssertionError("the tar stream is not padded to whole records")
    return stream
