#!/bin/bash
# ---
# RightScript Name: Registry Server
# Description: Runs a private Docker registry from Debian's docker-registry package,
#   with htpasswd (bcrypt) authentication, on a plain-http port. Other servers log in
#   with the same user name and password and mark it insecure.
# Packages: docker-registry apache2-utils curl
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
# Attachments:
# - registry-config.yml.j2
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

port=${REGISTRY_PORT:-5000}
storage=${REGISTRY_STORAGE:-/var/lib/docker-registry}
user=$REGISTRY_USERNAME
[[ $port =~ ^[1-9][0-9]{0,4}$ ]] || die "REGISTRY_PORT must be a port number"
[[ -n $user && $user != *:* ]] || die "REGISTRY_USERNAME must be non-empty and without ':'"
[[ -n ${REGISTRY_PASSWORD:-} ]] || die "REGISTRY_PASSWORD is empty"
conf_dir=/etc/docker/registry
pidfile=/run/stackscripts-registry.pid

# Without policy-rc.d the package would start an open registry before auth is configured.
apt_install_nostart docker-registry apache2-utils curl
getent passwd docker-registry >/dev/null || die "the docker-registry package did not create its user"

changed=false
mkdir -p "$conf_dir" "$storage"
chown docker-registry: "$storage"
if ! cmp -s "$RS_ATTACH_DIR/registry-config.yml" "$conf_dir/config.yml"; then
  log "writing $conf_dir/config.yml (port $port, storage $storage)"
  install -m 0644 "$RS_ATTACH_DIR/registry-config.yml" "$conf_dir/config.yml"
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

status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true; }

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
  if [[ $(status) == 000 ]] && ! start_service docker-registry start; then
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
until [[ $(status) == 401 ]]; do
  ((SECONDS - start < 60)) || die "the registry does not answer on port $port within 60s (see /var/log/docker-registry.log)"
  sleep 1
done
# Authenticated check; curl reads the credentials from stdin, never from its arguments.
secret=${REGISTRY_PASSWORD//\\/\\\\}
secret=${secret//\"/\\\"}
code=$(printf 'user = "%s:%s"\n' "$user" "$secret" |
  curl -s -K - -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
[[ $code == 200 ]] || die "the registry refuses $user's credentials (HTTP $code)"
log "registry answers on port $port (htpasswd auth, user $user)"
