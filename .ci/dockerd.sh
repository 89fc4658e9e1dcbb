#!/bin/sh
# Start the Docker engine for the local cloud if it is not running (idempotent; no systemd needed).
# Usage: .ci/dockerd.sh [--with-image]
#   --with-image  also build the local cloud's base image if it is missing or stale (~1 minute, once),
#                 so that no test's fixture pays for it under a per-test timeout.
# Log: /var/log/dockerd.log (DOCKERD_LOG overrides); wait: 60 s (DOCKERD_TIMEOUT overrides).
set -u
LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
SOCK=/var/run/docker.sock
TIMEOUT="${DOCKERD_TIMEOUT:-60}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"

build_image() {
    [ "${1:-}" = "--with-image" ] || return 0
    echo "local cloud: ensuring the base image"
    (cd "$HERE" && "${PYTHON:-python3}" -c '
from stackscripts.providers.local import ensure_base_image
print("local cloud: image", ensure_base_image(lambda line: print("  " + line, flush=True)))
') || { echo "local cloud: building the base image failed" >&2; exit 1; }
}

if docker info >/dev/null 2>&1; then
    echo "dockerd: already running"
    build_image "$@"
    exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
    echo "dockerd: not installed (apt-get install -y docker.io)" >&2
    exit 1
fi
# Loop devices for the local cloud's ephemeral drives.
modprobe loop 2>/dev/null || true
[ -e /dev/loop-control ] || mknod -m 660 /dev/loop-control c 10 237 2>/dev/null || true
# A stale pid file from a dead daemon stops a new one from starting.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
fi
setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
pid=$!
i=0
while [ "$i" -lt "$TIMEOUT" ]; do
    if [ -S "$SOCK" ] && docker info >/dev/null 2>&1; then
        echo "dockerd: started (pid $pid, log $LOG)"
        build_image "$@"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 1
    i=$((i + 1))
done
echo "dockerd: failed to start within ${TIMEOUT}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
