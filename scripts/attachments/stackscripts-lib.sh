# shellcheck shell=bash
# stackscripts-lib.sh: helpers shared by the stackscripts RightScripts.
# Attached to each script that sources it. It reads no inputs: callers pass values.

ss_state_dir=/var/lib/stackscripts
daemon_json=/etc/docker/daemon.json
safe_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# docker login and docker pull share root's client configuration, whatever HOME is.
if [[ $(id -u) -eq 0 ]]; then export DOCKER_CONFIG=${DOCKER_CONFIG:-/root/.docker}; fi

log() { printf 'stackscripts: %s\n' "$*"; }
die() { printf 'stackscripts: ERROR: %s\n' "$*" >&2; exit 1; }
require_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }
has_systemd() { [[ -d /run/systemd/system ]]; }

# apt_install PKG...: install the packages that are not installed yet (a package may be a .deb file's path).
# The package lists are refreshed unless an earlier step did so in the last 30 minutes.
apt_install() {
  local pkg missing=()
  for pkg in "$@"; do
    # shellcheck disable=SC2016
    [[ $pkg != */* ]] && dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -30 -print -quit) ]] || apt-get update -qq
  apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}

# apt_install_nostart PKG...: apt_install, keeping the packages' scripts from starting
# their services (they are started later, configured, with or without systemd).
apt_install_nostart() {
  local own=false
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own=true
  fi
  local rc=0
  apt_install "$@" || rc=$?
  if [[ $own == true ]]; then rm -f /usr/sbin/policy-rc.d; fi
  return "$rc"
}

# start_service NAME: start (or restart, with "restart") a packaged service without
# assuming systemd. Returns non-zero when neither systemd nor an init script started it.
start_service() {
  local name=$1 action=${2:-start}
  if has_systemd; then
    systemctl "$action" "$name"
  elif [[ -x /etc/init.d/$name ]]; then
    # Without systemd nobody may have made /run/lock (/var/lock), which init scripts use.
    [[ -d /run/lock ]] || install -d -m 1777 /run/lock
    env -i PATH="$safe_path" /etc/init.d/"$name" "$action" </dev/null
  else
    return 1
  fi
}

# mariadb_app_password VALUE [create]: VALUE (a MARIADB_PASSWORD input) if set, else the application's MariaDB
# password made on this server (0600 in $ss_state_dir; "create" makes it when missing).
mariadb_app_password() {
  local file=$ss_state_dir/mariadb-app-password
  if [[ -z $1 && ! -s $file && ${2:-} == create ]]; then
    install -d -m 0700 "$ss_state_dir"
    (umask 077 && head -c 24 /dev/urandom | base64 -w0 | tr -d '/+=' >"$file")
  fi
  if [[ -n $1 ]]; then printf '%s' "$1"; else cat "$file" 2>/dev/null; fi
}

# ---- dockerd, with or without systemd --------------------------------------
docker_up() { docker info >/dev/null 2>&1; }

wait_docker() {
  local limit=${1:-60} start=$SECONDS
  until docker_up; do
    ((SECONDS - start < limit)) || return 1
    sleep 1
  done
}

dockerd_pid() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

start_docker() {
  docker_up && return 0
  if has_systemd; then
    log "starting docker with systemd"
    systemctl start docker
    wait_docker 60 && return 0
    die "dockerd did not answer within 60s (see: journalctl -u docker)"
  fi
  if [[ -x /etc/init.d/docker ]]; then
    log "starting docker with /etc/init.d/docker"
    # A clean environment: the step's inputs (secrets included) stay out of the daemon.
    if env -i PATH="$safe_path" /etc/init.d/docker start </dev/null; then
      wait_docker 60 && return 0
    else
      log "the init script failed (e.g. ulimit in a container)"
    fi
  fi
  if ! dockerd_pid >/dev/null; then
    log "starting dockerd in the background (log: /var/log/dockerd.log)"
    (cd / && env -i PATH="$safe_path" setsid nohup dockerd </dev/null >>/var/log/dockerd.log 2>&1 &)
    wait_docker 60 && return 0
  fi
  die "dockerd did not answer within 60s (see /var/log/dockerd.log and /var/log/docker.log)"
}

stop_docker() {
  local pid start
  if has_systemd; then
    log "stopping docker with systemd"
    systemctl stop docker.socket docker.service 2>/dev/null || systemctl stop docker.service
  else
    if [[ -x /etc/init.d/docker ]]; then
      env -i PATH="$safe_path" /etc/init.d/docker stop </dev/null >/dev/null 2>&1 || true
    fi
    if pid=$(dockerd_pid); then
      log "stopping dockerd (pid $pid)"
      kill -TERM "$pid"
      start=$SECONDS
      while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS - start < 60)) || die "dockerd (pid $pid) did not exit within 60s"
        sleep 1
      done
    fi
  fi
  if docker_up; then die "dockerd still answers after stopping it"; fi
}

restart_docker() { stop_docker; start_docker; }

# daemon_json_update FILTER [JQ-ARGS...]: apply a jq filter to daemon.json.
# Returns 0 when the file changed, 1 when it was already up to date.
daemon_json_update() {
  local filter=$1 current new
  shift
  mkdir -p "$(dirname "$daemon_json")"
  if [[ -s $daemon_json ]]; then
    current=$(jq -S . "$daemon_json") || die "$daemon_json is not valid JSON"
  else
    current='{}'
  fi
  new=$(jq -S "$@" "$filter" <<<"$current") || die "could not update $daemon_json"
  if [[ -s $daemon_json && $new == "$current" ]]; then return 1; fi
  printf '%s\n' "$new" >"$daemon_json.new"
  mv "$daemon_json.new" "$daemon_json"
  return 0
}

# ---- registries and images ---------------------------------------------------
# registry_address HOST [PORT]: HOST:PORT, unless HOST is empty or already has a port.
registry_address() {
  local host=$1 port=${2:-}
  if [[ -n $host && -n $port && $host != *:* ]]; then
    printf '%s:%s\n' "$host" "$port"
  else
    printf '%s\n' "$host"
  fi
}

# image_ref REGISTRY IMAGE: REGISTRY/IMAGE, unless REGISTRY is empty or IMAGE names a registry.
image_ref() {
  local registry=$1 image=$2 first=${2%%/*}
  if [[ -z $registry ]] || [[ $image == */* && ($first == *.* || $first == *:* || $first == localhost) ]]; then
    printf '%s\n' "$image"
  else
    printf '%s/%s\n' "${registry%/}" "$image"
  fi
}

# pull_images true|false IMAGE...: pull in parallel (true) or one by one; fail if any pull fails.
pull_images() {
  local parallel=$1 start=$SECONDS t i failed=0 dir mode=sequential
  shift
  local -a images=("$@") pids=() rc=()
  [[ $parallel == true ]] && mode=parallel
  dir=$(mktemp -d)
  log "pulling ${#images[@]} images ($mode)"
  for i in "${!images[@]}"; do
    t=$SECONDS
    docker pull "${images[i]}" >"$dir/$i.log" 2>&1 &
    pids[i]=$!
    if [[ $mode == sequential ]]; then
      if wait "${pids[i]}"; then rc[i]=0; else rc[i]=$?; fi
      log "pull of ${images[i]} took $((SECONDS - t))s"
    fi
  done
  if [[ $mode == parallel ]]; then
    for i in "${!images[@]}"; do
      if wait "${pids[i]}"; then rc[i]=0; else rc[i]=$?; fi
    done
  fi
  for i in "${!images[@]}"; do
    if ((rc[i] != 0)); then
      failed=$((failed + 1))
      printf 'stackscripts: ERROR: docker pull %s failed (exit %s):\n' "${images[i]}" "${rc[i]}" >&2
      sed 's/^/    /' "$dir/$i.log" >&2
    fi
  done
  rm -rf "$dir"
  ((failed == 0)) || die "$failed of ${#images[@]} image pulls failed"
  log "pulled ${#images[@]} images in $((SECONDS - start))s ($mode)"
}

ensure_network() {
  docker network inspect "$1" >/dev/null 2>&1 && return 0
  log "creating docker network $1"
  docker network create "$1" >/dev/null
}

# run_container NAME IMAGE [DOCKER-RUN-OPTION...] [-- COMMAND...]
# Starts NAME (restart policy unless-stopped). Callers label their containers
# stackscripts.tier=service|app: the operational scripts find them by that label. A running container with the same
# image and settings is left alone; otherwise it is replaced. The settings are
# saved in $ss_state_dir/containers/NAME.spec so that roll-image can reuse them.
run_container() {
  local name=$1 image=$2 hash current image_id spec_dir=$ss_state_dir/containers
  shift 2
  local -a opts=() cmd=()
  while (($#)); do
    if [[ $1 == -- ]]; then shift; cmd=("$@"); break; fi
    opts+=("$1"); shift
  done
  hash=$(printf '%s\0' "${opts[@]}" "$image" "${cmd[@]}" | sha256sum | cut -c1-16)
  image_id=$(docker image inspect -f '{{.Id}}' "$image") || die "image $image is not present"
  current=$(docker inspect -f '{{.State.Running}} {{.Image}} {{index .Config.Labels "stackscripts.config"}}' "$name" 2>/dev/null || true)
  if [[ $current == "true $image_id $hash" ]]; then
    log "$name already running $image with the same settings"
    return 0
  fi
  if [[ -n $current ]]; then
    log "replacing container $name"
    docker rm -f "$name" >/dev/null
  fi
  log "starting $name from $image"
  docker run -d --name "$name" --restart unless-stopped \
    --label "stackscripts.config=$hash" \
    "${opts[@]}" "$image" "${cmd[@]}" >/dev/null || die "could not start container $name"
  mkdir -p "$spec_dir" && chmod 0700 "$ss_state_dir" "$spec_dir"
  printf '%s\0' "${#opts[@]}" "${opts[@]}" "$image" "${cmd[@]}" >"$spec_dir/$name.spec"
}
