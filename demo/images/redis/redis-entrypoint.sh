#!/bin/sh
# Like the official image: `redis-server [OPTION...]` runs in the foreground as the redis user, with its data
# in /data, reachable from other containers (all addresses, no protected mode); any other command runs as is.
set -eu
if [ "${1:-redis-server}" = redis-server ]; then
  [ $# -gt 0 ] && shift
  chown redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --bind 0.0.0.0 --protected-mode no \
    --dir /data --daemonize no "$@"
fi
exec "$@"
