"""What travels to the server for one step: the bundle as a tar stream and one fixed shell command.

The command holds no user value: only fixed text, the tar stream's length and the timeout.
Secrets (the bundle's `env` file) travel inside the tar stream on stdin, never on a command line.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
import tarfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import BadInput

RUN_DIR_PREFIX = "/tmp/stackscripts."
KILL_AFTER = 5  # seconds between SIGTERM and SIGKILL when a step times out or its connection drops
SECRET_FILES = frozenset({"env"})  # always 0600 on the server

# Runs under the login shell (any POSIX sh: dash and bash are tested). Steps:
#  0. umask 077 for what this command creates (the run directory, the unpacked bundle, its env
#     file); the step itself runs under umask 022, which run.sh sets just before it starts the
#     script (the runtime contract in docs/formats.md);
#  1. make a private run directory (0700, named with a random nonce), removed on any exit;
#  2. read exactly {size} bytes of stdin (the tar stream) and unpack it there, modes kept
#     (-m: no mtimes, so a controller clock ahead of the server's causes no tar warnings);
#  3. run the wrapper under `timeout`, in its own process group, stdin from /dev/null;
#  4. a watchdog keeps reading the rest of stdin: sshd closes it when the connection drops or
#     the client gives up; the watchdog then signals this shell, which stops the step's group
#     (SIGTERM; `timeout` sends SIGKILL 5 s later if the wrapper is still there);
#  5. a stopped or timed-out step's group is swept with SIGKILL once `timeout` has ended, so
#     nothing survives (a process forking just as SIGTERM came would otherwise miss it);
#  6. exit with the wrapper's exit code (124 or 137 when `timeout` stopped it, 143 if stopped).
# `kill -TERM -"$p"` signals the group; dash's kill takes no `--`.
_SCRIPT = """\
umask 077
d={prefix}{nonce}
mkdir -m 700 "$d" || exit 125
p= s=
trap 'rm -rf "$d"' EXIT
trap 's=1; if [ -n "$p" ]; then kill -TERM -"$p" "$p" 2>/dev/null; fi' HUP INT TERM
head -c {size} | tar -x -m -p -o -f - -C "$d" || exit 125
[ -z "$s" ] || exit 143
cd "$d" || exit 125
exec 3<&0
timeout -k {kill_after} {seconds} bash "$d/run.sh" </dev/null 3<&- &
p=$!
{{ while read -r _ <&3; do :; done; kill -TERM $$; }} </dev/null >/dev/null 2>&1 &
w=$!
exec 3<&-
[ -z "$s" ] || kill -TERM -"$p" "$p" 2>/dev/null
wait "$p"
rc=$?
while [ -n "$s" ] && [ "$rc" -gt 128 ] && kill -0 "$p" 2>/dev/null; do wait "$p"; rc=$?; done
kill "$w" 2>/dev/null
case "$s:$rc" in 1:*|*:124|*:137) kill -KILL -"$p" 2>/dev/null; esac
[ -z "$s" ] || rc=143
exit "$rc"
"""


def format_seconds(seconds: float) -> str:
    """Seconds as short decimal text: 30 -> "30", 0.5 -> "0.5" (never exponent notation)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def bundle_command(tar_size: int, timeout: float | None) -> str:
    """The one remote command that unpacks, runs and removes a step bundle."""
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be positive")
    seconds = "0" if timeout is None else format_seconds(max(timeout, 0.001))  # 0 = no limit
    nonce = secrets.token_hex(8)  # not a user value: random, so no earlier run directory collides
    return _SCRIPT.format(prefix=RUN_DIR_PREFIX, nonce=nonce, size=int(tar_size), kill_after=KILL_AFTER,
                          seconds=seconds)


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


def build_bundle_tar(files: BundleFiles) -> bytes:
    """Pack a step bundle into an in-memory tar stream: relative names, modes kept, env 0600."""
    if "run.sh" not in files:
        raise BadInput("not a step bundle (no run.sh)")
    buffer = io.BytesIO()
    dirs: set[str] = set()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            parts = name.rstrip("/").split("/")
            for depth in range(1, len(parts) + (0 if not name.endswith("/") else 1)):  # parents first
                folder = "/".join(parts[:depth])
                if folder not in dirs:
                    dirs.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode = tarfile.DIRTYPE, 0o700  # the run directory stays removable
                    tar.addfile(info)
            if name.endswith("/"):
                continue
            mode, data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600 if name in SECRET_FILES else mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
