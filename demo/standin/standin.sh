#!/bin/busybox sh
# A stand-in for a service image: answers TCP connections on each port in
# $STANDIN_PORTS (and $PORT, which the application containers receive).
# Arguments (e.g. "redis-server --appendonly yes") are accepted and ignored.
set -u
ports="${STANDIN_PORTS:-} ${PORT:-}"
for port in $ports; do
  /bin/busybox nc -ll -p "$port" -e /bin/busybox echo "stand-in $STANDIN_NAME" &
done
echo "stand-in $STANDIN_NAME listening on:$ports"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
