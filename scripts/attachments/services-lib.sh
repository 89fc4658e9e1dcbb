# shellcheck shell=bash
# services-lib.sh: helpers of the package version's RightScripts (Packages ...), sourced after
# stackscripts-lib.sh: waiting for a port, and services that have no init script run as background
# processes without systemd. Like stackscripts-lib.sh, it reads no inputs.

# wait_port HOST PORT [SECONDS]: wait until a TCP connection to HOST:PORT succeeds.
wait_port() {
  local host=$1 port=$2 limit=${3:-60} start=$SECONDS
  # shellcheck disable=SC2016
  until timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null; do
    ((SECONDS - start < limit)) || return 1
    sleep 1
  done
}

# background NAME USER LOG COMMAND...: start COMMAND as USER in the background, detached, in a clean
# environment (the step's inputs stay out), appending its output to LOG; its pid goes to /run/stackscripts-NAME.pid.
background() {
  local name=$1 user=$2 logfile=$3
  shift 3
  touch "$logfile"
  chown "$user" "$logfile"
  (
    cd /
    # shellcheck disable=SC2154 # safe_path is stackscripts-lib.sh's
    env -i PATH="$safe_path" LANG=C.UTF-8 setsid nohup setpriv --reuid="$user" --regid="$(id -g "$user")" \
      --init-groups "$@" </dev/null >>"$logfile" 2>&1 &
    echo $! >"/run/stackscripts-$name.pid"
  )
}

# stop_background NAME: stop what background NAME started (TERM, then KILL after 20 s).
stop_background() {
  local pid start=$SECONDS
  pid=$(cat "/run/stackscripts-$1.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  while ((SECONDS - start < 20)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# log_tail FILE: the end of FILE, indented, for an error message.
log_tail() {
  printf 'the end of %s:\n' "$1"
  tail -n 15 "$1" 2>&1 | sed 's/^/    /'
}
