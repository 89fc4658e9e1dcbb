#!/bin/bash
# ---
# RightScript Name: Restart Container
# Description: Restarts one container (graceful stop, then start) and waits until it
#   runs again.
# Inputs:
#   CONTAINER:
#     Category: Operations
#     Description: Name of the container, e.g. kafka or app-api (give it when running
#       the script; it is not needed at boot).
#     Input Type: single
#     Required: true
#     Advanced: false
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

name=${CONTAINER:-}
[[ -n $name ]] || die "CONTAINER is required: run with -i CONTAINER=text:NAME"
grace=${STOP_TIMEOUT:-30}
[[ $grace =~ ^[0-9]+$ ]] || die "STOP_TIMEOUT must be a number of seconds"
docker_up || die "docker is not running"
docker inspect -f '{{.Id}}' "$name" >/dev/null 2>&1 || die "no container named $name"

log "restarting $name (stop timeout ${grace}s)"
docker restart -t "$grace" "$name" >/dev/null
start=$SECONDS
while true; do
  state=$(docker inspect -f '{{.State.Status}}' "$name")
  [[ $state == running ]] && break
  ((SECONDS - start < 60)) || die "$name is $state 60s after its restart; last log lines:
$(docker logs --tail 20 "$name" 2>&1)"
  sleep 1
done
log "$name is running again ($(docker inspect -f '{{.Config.Image}}, started {{.State.StartedAt}}' "$name"))"
