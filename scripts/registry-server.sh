#!/bin/bash
# ---
# RightScript Name: Registry Server
# Description: Runs a private Docker registry from Debian's docker-registry package,
#   with htpasswd (bcrypt) authentication, on a plain-http port. Other servers log in
#   with the same user name and password and mark it insecure. With
#   REGISTRY_THROTTLE_RATE or REGISTRY_THROTTLE_DELAY set, a throttling proxy
#   (registry-proxy.py, run by python3) holds REGISTRY_PORT and makes each connection as
#   slow as a registry across the internet; the registry itself then listens on
#   127.0.0.1:REGISTRY_BACKEND_PORT only.
# Packages: docker-registry apache2-utils curl python3-minimal
# Inputs:
#   REGISTRY_USERNAME:
#     Category: Registry
#     Description: User allowed to push and pull.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:stackscripts
#   REGISTRY_PASSWORD:
#     Category: Registry
#     Description: Password of REGISTRY_USERNAME (given to htpasswd on stdin).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:REGISTRY_PASSWORD
#   REGISTRY_PORT:
#     Category: Registry
#     Description: TCP port the registry listens on (all addresses).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:5000
#   REGISTRY_STORAGE:
#     Category: Registry
#     Description: Directory holding the registry's blobs and manifests.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:/var/lib/docker-registry
#   REGISTRY_THROTTLE_RATE:
#     Category: Registry
#     Description: Bytes a second that each client connection may carry in each
#       direction, a number with an optional k or m suffix as nginx's limit_rate (e.g.
#       2m); 0 means no limit. Setting it (or REGISTRY_THROTTLE_DELAY) puts the registry
#       behind the throttling proxy; unset, clients reach the registry directly.
#     Input Type: single
#     Required: false
#     Advanced: true
#   REGISTRY_THROTTLE_DELAY:
#     Category: Registry
#     Description: Latency the throttling proxy adds to each request (every chunk a
#       client sends reaches the registry this much later), e.g. 100ms or 0.5s.
#     Input Type: single
#     Required: false
#     Advanced: true
#   REGISTRY_BACKEND_PORT:
#     Category: Registry
#     Description: Port the registry itself listens on, on 127.0.0.1 only, while the
#       throttling proxy holds REGISTRY_PORT.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:5001
# Attachments:
# - registry-config.yml.j2
# - registry-proxy.py
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

port=${REGISTRY_PORT:-5000}
storage=${REGISTRY_STORAGE:-/var/lib/docker-registry}
user=$REGISTRY_USERNAME
rate=${REGISTRY_THROTTLE_RATE:-}
delay=${REGISTRY_THROTTLE_DELAY:-}
backend_port=${REGISTRY_BACKEND_PORT:-5001}
[[ $port =~ ^[1-9][0-9]{0,4}$ ]] || die "REGISTRY_PORT must be a port number"
[[ -n $user && $user != *:* ]] || die "REGISTRY_USERNAME must be non-empty and without ':'"
[[ -n ${REGISTRY_PASSWORD:-} ]] || die "REGISTRY_PASSWORD is empty"
[[ -z $rate || $rate =~ ^[0-9]+[kKmM]?$ ]] ||
  die "REGISTRY_THROTTLE_RATE must be bytes a second per connection, a number with an optional k or m suffix such as 2m, not '$rate'"
[[ -z $delay || $delay =~ ^[0-9]+(\.[0-9]+)?(ms|s)$ ]] ||
  die "REGISTRY_THROTTLE_DELAY must be a duration such as 100ms or 0.5s, not '$delay'"
throttle=false
local_addr=127.0.0.1:$port # where this server reaches the registry itself
listen=:$port
if [[ -n $rate || -n $delay ]]; then
  throttle=true
  [[ $backend_port =~ ^[1-9][0-9]{0,4}$ ]] || die "REGISTRY_BACKEND_PORT must be a port number"
  [[ $backend_port != "$port" ]] ||
    die "REGISTRY_BACKEND_PORT ($backend_port) must differ from REGISTRY_PORT: the throttling proxy holds port $port"
  local_addr=127.0.0.1:$backend_port
  listen=$local_addr
fi
conf_dir=/etc/docker/registry
pidfile=/run/stackscripts-registry.pid
proxy_py=/usr/local/lib/stackscripts/registry-proxy.py
proxy_pidfile=/run/stackscripts-registry-proxy.pid
proxy_unit=/etc/systemd/system/stackscripts-registry-proxy.service
proxy_log=/var/log/stackscripts-registry-proxy.log
proxy_args=(--listen "$port" --backend "$local_addr" --user nobody)
[[ -z $rate ]] || proxy_args+=(--rate "$rate")
[[ -z $delay ]] || proxy_args+=(--delay "$delay")
# What the running proxy was started with (its arguments and its code), to restart it when either changes.
proxy_id=$(printf '%s\n' "${proxy_args[@]}" "$(sha256sum <"$RS_ATTACH_DIR/registry-proxy.py")" | sha256sum | cut -c1-16)

# Without policy-rc.d the package would start an open registry before auth is configured.
apt_install_nostart docker-registry apache2-utils curl
[[ $throttle == false ]] || apt_install python3-minimal
getent passwd docker-registry >/dev/null || die "the docker-registry package did not create its user"

proxy_pid() {
  local pid
  pid=$(cat "$proxy_pidfile" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -qa registry-proxy "/proc/$pid/cmdline" && printf '%s\n' "$pid"
}
proxy_running_id() {
  if has_systemd; then
    systemctl is-active --quiet stackscripts-registry-proxy 2>/dev/null || return 1
  else
    proxy_pid >/dev/null || return 1
  fi
  cat "$proxy_pidfile.id" 2>/dev/null
}
stop_proxy() {
  local pid
  if has_systemd && [[ -e $proxy_unit ]]; then
    log "stopping the throttling proxy"
    systemctl disable --now stackscripts-registry-proxy >/dev/null 2>&1 || true
    rm -f "$proxy_unit"
    systemctl daemon-reload
  fi
  if pid=$(proxy_pid); then
    log "stopping the throttling proxy (pid $pid)"
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$proxy_pidfile" "$proxy_pidfile.id"
}
start_proxy() {
  install -d -m 0755 "$(dirname "$proxy_py")"
  install -m 0644 "$RS_ATTACH_DIR/registry-proxy.py" "$proxy_py"
  if has_systemd; then
    printf '%s\n' "[Unit]" "Description=stackscripts registry throttling proxy" \
      "After=network.target docker-registry.service" "" "[Service]" \
      "ExecStart=/usr/bin/python3 $proxy_py ${proxy_args[*]}" "Restart=on-failure" "" \
      "[Install]" "WantedBy=multi-user.target" >"$proxy_unit"
    systemctl daemon-reload
    systemctl enable --now stackscripts-registry-proxy >/dev/null 2>&1 || die "could not start the throttling proxy (see: journalctl -u stackscripts-registry-proxy)"
  else
    (
      cd /
      env -i PATH="$safe_path" setsid nohup /usr/bin/python3 "$proxy_py" "${proxy_args[@]}" \
        </dev/null >>"$proxy_log" 2>&1 &
      echo $! >"$proxy_pidfile"
    )
  fi
  printf '%s\n' "$proxy_id" >"$proxy_pidfile.id"
}

# The proxy goes first when it is no longer wanted or must change: the registry may need its port back.
if running=$(proxy_running_id) || [[ -e $proxy_unit ]] || proxy_pid >/dev/null; then
  if [[ $throttle == false || ${running:-} != "$proxy_id" ]]; then stop_proxy; fi
fi

changed=false
mkdir -p "$conf_dir" "$storage"
chown docker-registry: "$storage"
config=$PWD/config.yml
sed "s|^  addr: .*|  addr: \"$listen\"|" "$RS_ATTACH_DIR/registry-config.yml" >"$config"
grep -qx "  addr: \"$listen\"" "$config" || die "registry-config.yml has no http addr line to set to $listen"
if ! cmp -s "$config" "$conf_dir/config.yml"; then
  log "writing $conf_dir/config.yml (listening on $listen, storage $storage)"
  install -m 0644 "$config" "$conf_dir/config.yml"
  changed=true
fi
htpasswd_file=$conf_dir/htpasswd
if [[ -s $htpasswd_file ]] && printf '%s' "$REGISTRY_PASSWORD" | htpasswd -iv "$htpasswd_file" "$user" >/dev/null 2>&1; then
  log "htpasswd already holds $user with this password"
else
  log "writing $htpasswd_file for $user (bcrypt)"
  (umask 027 && printf '%s' "$REGISTRY_PASSWORD" | htpasswd -iBc "$htpasswd_file.new" "$user" 2>/dev/null)
  chown root:docker-registry "$htpasswd_file.new"
  mv "$htpasswd_file.new" "$htpasswd_file"
  changed=true
fi

status() { curl -s -o /dev/null -w '%{http_code}' "http://$1/v2/" || true; }

if has_systemd; then
  systemctl enable docker-registry >/dev/null 2>&1 || true
  if [[ $changed == true ]]; then start_service docker-registry restart; else start_service docker-registry start; fi
else
  if [[ $changed == true ]]; then
    start_service docker-registry stop >/dev/null 2>&1 || true
    if pid=$(cat "$pidfile" 2>/dev/null) && kill "$pid" 2>/dev/null; then
      log "configuration changed: stopping the registry (pid $pid)"
      while kill -0 "$pid" 2>/dev/null; do sleep 1; done
    fi
  fi
  if [[ $(status "$local_addr") == 000 ]] && ! start_service docker-registry start; then
    log "starting docker-registry in the background (log: /var/log/docker-registry.log)"
    (
      cd /
      env -i PATH="$safe_path" setsid nohup setpriv --reuid=docker-registry --regid=docker-registry \
        --init-groups /usr/bin/docker-registry serve "$conf_dir/config.yml" \
        </dev/null >>/var/log/docker-registry.log 2>&1 &
      echo $! >"$pidfile"
    )
  fi
fi

start=$SECONDS
until [[ $(status "$local_addr") == 401 ]]; do
  ((SECONDS - start < 60)) || die "the registry does not answer on $local_addr within 60s (see /var/log/docker-registry.log)"
  sleep 1
done
mkdir -p "$ss_state_dir"
printf '%s\n' "$local_addr" >"$ss_state_dir/registry-local" # the mirror pushes here, never through the proxy

if [[ $throttle == true ]]; then
  if [[ $(proxy_running_id || true) == "$proxy_id" ]]; then
    log "the throttling proxy already runs with these settings"
  else
    log "starting the throttling proxy on port $port (log: $proxy_log)"
    start_proxy
  fi
  start=$SECONDS
  until [[ $(status "127.0.0.1:$port") == 401 ]]; do
    ((SECONDS - start < 30)) || die "the throttling proxy does not answer on port $port within 30s (see $proxy_log)"
    sleep 0.5
  done
fi

# Authenticated check on the advertised port (through the proxy when there is one); curl reads the
# credentials from stdin, never from its arguments.
secret=${REGISTRY_PASSWORD//\\/\\\\}
secret=${secret//\"/\\\"}
code=$(printf 'user = "%s:%s"\n' "$user" "$secret" |
  curl -s -K - -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
[[ $code == 200 ]] || die "the registry refuses $user's credentials on port $port (HTTP $code)"
if [[ $throttle == true ]]; then
  log "registry answers on port $port through the throttling proxy (rate ${rate:-unlimited} bytes/s per connection, delay ${delay:-0ms} per request; the registry itself on $local_addr only; htpasswd auth, user $user)"
else
  log "registry answers on port $port (htpasswd auth, user $user)"
fi
