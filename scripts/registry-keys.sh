#!/bin/bash
# ---
# RightScript Name: Registry Keys
# Description: Logs the Docker engine in to each private registry so that later steps
#   can pull private images. Plain-http registries can be marked insecure in daemon.json
#   (docker is restarted only when that list changes).
# Packages: jq
# Inputs:
#   REGISTRY_HOSTS:
#     Category: Registry
#     Description: Private registries to log in to, each as host or host:port. Empty
#       means there is nothing to do.
#     Input Type: array
#     Required: false
#     Advanced: false
#   REGISTRY_PORT:
#     Category: Registry
#     Description: Port added to registry hosts given without one, e.g. when a host
#       comes from env:SERVER:PRIVATE_IP. Leave unset to use the hosts as given.
#     Input Type: single
#     Required: false
#     Advanced: true
#   REGISTRY_USERNAME:
#     Category: Registry
#     Description: User name for the private registries.
#     Input Type: single
#     Required: false
#     Advanced: false
#   REGISTRY_PASSWORD:
#     Category: Registry
#     Description: Password for the private registries (passed to docker login on stdin).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:REGISTRY_PASSWORD
#   REGISTRY_INSECURE:
#     Category: Registry
#     Description: Set to true for registries served over plain http; they are added
#       to insecure-registries in daemon.json.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:false
#     Possible Values:
#     - text:true
#     - text:false
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

insecure=${REGISTRY_INSECURE:-false}
[[ $insecure == true || $insecure == false ]] || die "REGISTRY_INSECURE must be true or false"

hosts=()
while IFS= read -r host; do
  host=${host//[[:space:]]/}
  host=${host#http://}
  host=${host#https://}
  host=${host%/}
  if [[ -n $host ]]; then hosts+=("$(registry_address "$host" "${REGISTRY_PORT:-}")"); fi
done <<<"${REGISTRY_HOSTS:-}"
if ((${#hosts[@]} == 0)); then
  log "REGISTRY_HOSTS is empty: no private registry to log in to"
  exit 0
fi
[[ -n ${REGISTRY_USERNAME:-} ]] || die "REGISTRY_USERNAME is required to log in to ${hosts[*]}"
[[ -n ${REGISTRY_PASSWORD:-} ]] || die "REGISTRY_PASSWORD is empty"
docker_up || die "docker is not running: run Install Docker first"

if [[ $insecure == true ]]; then
  apt_install jq
  list=$(printf '%s\n' "${hosts[@]}" | jq -R . | jq -sc .)
  # shellcheck disable=SC2016
  if daemon_json_update '.["insecure-registries"] = ((.["insecure-registries"] // []) + $hosts | unique)' \
    --argjson hosts "$list"; then
    log "added ${hosts[*]} to insecure-registries: restarting docker"
    restart_docker
  else
    log "insecure-registries already lists ${hosts[*]}"
  fi
fi

for host in "${hosts[@]}"; do
  log "logging in to $host as $REGISTRY_USERNAME"
  # The password only ever travels on a pipe: never on a command line or in a file.
  if ! output=$(printf '%s' "$REGISTRY_PASSWORD" |
    docker login --username "$REGISTRY_USERNAME" --password-stdin "$host" 2>&1); then
    printf '%s\n' "$output" | sed 's/^/    /' >&2
    hint="check REGISTRY_USERNAME and REGISTRY_PASSWORD"
    [[ $insecure == true ]] || hint+=", and set REGISTRY_INSECURE=true if $host serves plain http"
    die "docker login to $host failed: $hint"
  fi
  log "logged in to $host"
done
