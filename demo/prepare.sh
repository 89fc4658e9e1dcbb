#!/usr/bin/env bash
# Build the stand-in images and serve them from a source registry on this machine's
# docker0 address, which the demo's registry server mirrors at boot (MIRROR_SOURCE).
# Prints the source registry address on the last line. DEMO_PAD_MB=N adds N MB of random
# data to each stand-in, so that pulling them costs what pulling real images costs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${DEMO_STATE:-/var/lib/stackscripts/demo}
port=${DEMO_SOURCE_PORT:-5001}

bridge=$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
[ -n "$bridge" ] || { echo "demo: no docker0 bridge; is dockerd running? (bash .ci/dockerd.sh)" >&2; exit 1; }
source="$bridge:$port"

# name:ports, as the flagship scripts expect them
standins=(zookeeper:2181 redis:6379 kafka:9092 mariadb:3306 "graphite:80 2003 8125" app-api: app-worker:)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp /bin/busybox "$context/busybox"
cp "$here/standin/standin.sh" "$here/standin/Dockerfile" "$context/"
pad_mb=${DEMO_PAD_MB:-0}
for entry in "${standins[@]}"; do
  name=${entry%%:*} ports=${entry#*:}
  cp "$here/standin/Dockerfile" "$context/Dockerfile"
  rm -f "$context/pad"
  if [ "$pad_mb" -gt 0 ]; then
    head -c "$((pad_mb * 1048576))" /dev/urandom > "$context/pad"
    echo "COPY pad /pad" >> "$context/Dockerfile"
  fi
  if ! out=$(docker build -q --build-arg NAME="$name" --build-arg PORTS="$ports" -t "stackscripts/$name:demo" \
      "$context" 2>&1); then
    echo "$out" >&2; exit 1
  fi
done
echo "demo: built ${#standins[@]} stand-in images (stackscripts/<name>:demo, ${pad_mb} MB padding each)" >&2

# The source registry: Debian's docker-registry, bound to the bridge address only.
mkdir -p "$state/registry"
cat > "$state/config.yml" <<CONF
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/registry
http:
  addr: $source
CONF
if ! curl -fs "http://$source/v2/" >/dev/null 2>&1; then
  setsid nohup /usr/bin/docker-registry serve "$state/config.yml" </dev/null >"$state/registry.log" 2>&1 &
  for _ in $(seq 1 50); do curl -fs "http://$source/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://$source/v2/" >/dev/null || { echo "demo: source registry did not start (see $state/registry.log)" >&2; exit 1; }
fi
for entry in "${standins[@]}"; do
  name=${entry%%:*}
  skopeo copy --quiet --dest-tls-verify=false "docker-daemon:stackscripts/$name:demo" \
    "docker://$source/stackscripts/$name:demo"
done
echo "demo: source registry at $source holds the stand-ins" >&2
echo "$source"
