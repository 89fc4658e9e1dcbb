#!/usr/bin/env bash
# Build the demo's service images (demo/images/<name>: real ZooKeeper, Redis, MariaDB, graphite with StatsD and
# the two Ruby application containers on the local cloud's Debian base image, and the Kafka stand-in) and
# serve them from a source registry on this machine's docker0 address, which the demo's registry server
# mirrors at boot (MIRROR_SOURCE). An image is rebuilt and pushed again only when the digest of its recipe
# (its folder, the scripts/attachments files it uses, the base image) changes: the image carries it in the
# label stackscripts.recipe-digest. Prints the source registry address on the last line.
#   DEMO_STATE (/var/lib/stackscripts/demo)  build logs, npm tarballs, the source registry's storage
#   DEMO_SOURCE_PORT (5001)                  the source registry's port on docker0
#   DEMO_BUILD_JOBS (3)                      images built at once
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
attachments=$root/scripts/attachments
state=${DEMO_STATE:-/var/lib/stackscripts/demo}
port=${DEMO_SOURCE_PORT:-5001}
jobs=${DEMO_BUILD_JOBS:-3}
base=stackscripts/debian:bookworm

fail() { echo "demo: $*" >&2; exit 1; }
[[ $jobs =~ ^[1-9][0-9]*$ ]] || fail "DEMO_BUILD_JOBS must be a positive number, not '$jobs'"
if [[ -n ${DEMO_PAD_MB:-} && ${DEMO_PAD_MB:-0} != 0 ]]; then
  echo "demo: DEMO_PAD_MB is ignored: the images are real services now, no padding needed" >&2
fi
bridge=$(ip -4 -o addr show docker0 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
[ -n "$bridge" ] || fail "no docker0 bridge; is dockerd running? (bash .ci/dockerd.sh)"
source="$bridge:$port"
mkdir -p "$state/logs"

if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "demo: building the local cloud's base image $base (about a minute, once)" >&2
  "${PYTHON:-$root/.venv/bin/python}" -c \
    'import sys; from stackscripts.providers.local import ensure_base_image; ensure_base_image(lambda m: print(m, file=sys.stderr))' \
    >&2 || fail "could not build the base image $base"
fi
base_id=$(docker image inspect -f '{{.Id}}' "$base")

# image name, recipe folder, build argument, files taken from scripts/attachments; the longest build first
images=(
  "graphite|graphite||graphite-setup.sh statsd-install.sh statsd-config.js"
  "zookeeper|zookeeper||zookeeper-setup.sh"
  "mariadb|mariadb||mariadb-setup.sh"
  "redis|redis||"
  "app-api|app|APP=api|app-common.rb app-api.rb app-worker.rb"
  "app-worker|app|APP=worker|app-common.rb app-api.rb app-worker.rb"
  "kafka|kafka||kafka-standin.sh"
)

# StatsD's npm tarballs, fetched on this machine (pinned by their sha512) for the graphite image.
bash "$attachments/statsd-install.sh" fetch "$state/npm" >&2 || fail "could not fetch StatsD from the npm registry"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# context NAME RECIPE SHARED: assemble the build context in $work/NAME; prints its digest.
context() {
  local name=$1 recipe=$2 shared=$3 dir=$work/$1 file
  mkdir -p "$dir"
  cp -p "$here/images/$recipe"/* "$dir/"
  for file in $shared; do cp -p "$attachments/$file" "$dir/"; done
  case $recipe in
    graphite) mkdir -p "$dir/npm" && cp -p "$state/npm"/*.tgz "$dir/npm/" ;;
    kafka) cp /bin/busybox "$dir/busybox" ;;
  esac
  (cd "$dir" && find . -type f -printf '%P %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum) |
    { cat; printf '%s %s\n' "$base_id" "$4"; } | sha256sum | cut -c1-24
}

declare -A digests=()
for entry in "${images[@]}"; do
  IFS='|' read -r name recipe arg shared <<<"$entry"
  digests[$name]=$(context "$name" "$recipe" "$shared" "$arg")
done

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
  curl -fs "http://$source/v2/" >/dev/null || fail "source registry did not start (see $state/registry.log)"
fi

# label REF: the recipe digest an image carries (docker-daemon:... or docker://...), empty if none.
label() {
  case $1 in
    docker://*) skopeo inspect --tls-verify=false --format '{{index .Labels "stackscripts.recipe-digest"}}' "$1" 2>/dev/null ;;
    *) docker image inspect -f '{{index .Config.Labels "stackscripts.recipe-digest"}}' "$1" 2>/dev/null ;;
  esac || true
}

# prepare NAME RECIPE ARG DIGEST: build stackscripts/NAME:demo unless it carries DIGEST, then push it to the
# source registry unless the registry's copy carries DIGEST. Marks a failure in $work/failed-NAME.
prepare() {
  local name=$1 recipe=$2 arg=$3 digest=$4 args=() start=$SECONDS log=$state/logs/build-$1.log
  if [[ $(label "stackscripts/$name:demo") != "$digest" ]]; then
    [[ -n $arg ]] && args=(--build-arg "$arg")
    if ! docker build "${args[@]}" --label "stackscripts.recipe-digest=$digest" -t "stackscripts/$name:demo" \
        -f "$work/$name/Dockerfile" "$work/$name" >"$log" 2>&1; then
      echo "demo: building image stackscripts/$name:demo (demo/images/$recipe) failed; the end of $log:" >&2
      tail -n 25 "$log" | sed 's/^/    /' >&2
      touch "$work/failed-$name"
      return 1
    fi
    echo "demo: built stackscripts/$name:demo in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' \
      "stackscripts/$name:demo" | awk '{printf "%d MB", $1 / 1e6}'))" >&2
  fi
  [[ $(label "docker://$source/stackscripts/$name:demo") != "$digest" ]] || return 0
  start=$SECONDS log=$state/logs/push-$name.log
  if ! skopeo copy --quiet --dest-tls-verify=false "docker-daemon:stackscripts/$name:demo" \
      "docker://$source/stackscripts/$name:demo" >"$log" 2>&1; then
    echo "demo: pushing stackscripts/$name:demo to $source failed: $(tail -n 3 "$log")" >&2
    touch "$work/failed-$name"
    return 1
  fi
  echo "demo: pushed stackscripts/$name:demo to $source in $((SECONDS - start))s" >&2
}

running() { local n=0 pid; for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then n=$((n + 1)); fi; done; echo "$n"; }

# DEMO_BUILD_JOBS images at a time; app-worker last, from app-api's cached layers. Each image is pushed as
# soon as it is built, while the others build.
start=$SECONDS
for round in first last; do
  pids=()
  for entry in "${images[@]}"; do
    IFS='|' read -r name recipe arg _ <<<"$entry"
    last=first
    [[ $name == app-worker ]] && last=last
    [[ $last == "$round" ]] || continue
    while (($(running) >= jobs)); do sleep 1; done
    prepare "$name" "$recipe" "$arg" "${digests[$name]}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
done
failed=$(find "$work" -maxdepth 1 -name 'failed-*' -printf '%f ' | sed 's/failed-//g')
[[ -z $failed ]] || fail "these images could not be built or pushed: $failed(see above; logs in $state/logs)"
echo "demo: source registry at $source holds the ${#images[@]} images, up to date ($((SECONDS - start))s; kafka is a stand-in)" >&2
echo "$source"
