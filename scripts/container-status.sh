#!/bin/bash
# ---
# RightScript Name: Container Status
# Description: Prints the state of the containers started by the launch scripts (status,
#   health, restarts, image, ports) and of the Docker engine; fails when one of them
#   is not running or is unhealthy.
# Inputs: {}
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"

docker_up || die "docker is not running"
log "engine: docker $(docker version -f '{{.Server.Version}}'), storage driver $(docker info -f '{{.Driver}}'), data root $(docker info -f '{{.DockerRootDir}}')"
root=$(docker info -f '{{.DockerRootDir}}')
df -h --output=source,fstype,size,used,avail,pcent "$root" | sed 's/^/  /'

mapfile -t names < <(docker ps -a --filter label=stackscripts.tier --format '{{.Names}}' | sort)
if ((${#names[@]} == 0)); then
  log "no containers started by the launch scripts"
  exit 0
fi

bad=()
printf '  %-12s %-8s %-10s %-8s %s\n' NAME STATE HEALTH RESTARTS IMAGE
for name in "${names[@]}"; do
  read -r state health restarts image < <(docker inspect -f \
    '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.RestartCount}} {{.Config.Image}}' "$name")
  printf '  %-12s %-8s %-10s %-8s %s\n' "$name" "$state" "$health" "$restarts" "$image"
  if [[ $state != running || $health == unhealthy ]]; then bad+=("$name"); fi
done
log "published ports:"
docker ps --filter label=stackscripts.tier --format '{{.Names}}\t{{.Ports}}' | sort | sed 's/^/  /'

((${#bad[@]} == 0)) || die "${#bad[@]} of ${#names[@]} containers are not running or unhealthy: ${bad[*]}"
log "all ${#names[@]} containers are running"
