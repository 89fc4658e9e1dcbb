#!/bin/bash
# ---
# RightScript Name: Stop Containers
# Description: Stops the containers started by the launch scripts gracefully, the applications
#   first and then the services. Stopped containers stay stopped when dockerd restarts
#   (restart policy unless-stopped).
# Inputs:
#   STOP_TIMEOUT:
#     Category: Operations
#     Description: Seconds a container gets to stop before it is killed.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:30
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"

grace=${STOP_TIMEOUT:-30}
[[ $grace =~ ^[0-9]+$ ]] || die "STOP_TIMEOUT must be a number of seconds"
if ! command -v docker >/dev/null || ! docker_up; then
  log "docker is not running: no container to stop"
  exit 0
fi

for tier in app service; do
  mapfile -t names < <(docker ps --filter "label=stackscripts.tier=$tier" --format '{{.Names}}')
  if ((${#names[@]} == 0)); then
    log "no running $tier containers"
    continue
  fi
  log "stopping $tier containers (timeout ${grace}s): ${names[*]}"
  docker stop -t "$grace" "${names[@]}" >/dev/null
done
left=$(docker ps -q --filter label=stackscripts.tier | wc -l)
((left == 0)) || die "$left containers still run"
log "all containers stopped"
