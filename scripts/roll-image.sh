#!/bin/bash
# ---
# RightScript Name: Roll Container Image
# Description: Pulls an image and recreates a container started by the launch scripts
#   from it, with the same settings (saved at launch in /var/lib/stackscripts). The
#   launch scripts use their image inputs again on their next run, so update the input
#   too to keep the new image.
# Inputs:
#   CONTAINER:
#     Category: Operations
#     Description: Name of the container to roll, e.g. app-api (give it when running
#       the script; it is not needed at boot).
#     Input Type: single
#     Required: true
#     Advanced: false
#   IMAGE:
#     Category: Operations
#     Description: New image, e.g. stackscripts/app-api:1.2 (prefixed by IMAGE_REGISTRY
#       like the launch scripts' images).
#     Input Type: single
#     Required: true
#     Advanced: false
#   IMAGE_REGISTRY:
#     Category: Images
#     Description: Registry (host or host:port) prefixed to image names that do not
#       name a registry themselves. Unset means Docker Hub.
#     Input Type: single
#     Required: false
#     Advanced: false
#   REGISTRY_PORT:
#     Category: Registry
#     Description: Port added to IMAGE_REGISTRY when it has none.
#     Input Type: single
#     Required: false
#     Advanced: true
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

name=${CONTAINER:-}
[[ -n $name ]] || die "CONTAINER is required: run with -i CONTAINER=text:NAME"
[[ -n ${IMAGE:-} ]] || die "IMAGE is required: run with -i IMAGE=text:IMAGE"
spec_file=$ss_state_dir/containers/$name.spec
docker_up || die "docker is not running"
[[ -f $spec_file ]] || die "no saved settings for $name ($spec_file): only containers started by the launch scripts can be rolled"
registry=$(registry_address "${IMAGE_REGISTRY:-}" "${REGISTRY_PORT:-}")
# shellcheck disable=SC2153 # IMAGE is an input, not a misspelling
new_image=$(image_ref "$registry" "$IMAGE")
apt_install jq

# The spec holds: number of options, the options, the image, the command.
mapfile -d '' -t spec <"$spec_file"
count=${spec[0]}
opts=("${spec[@]:1:count}")
old_image=${spec[count + 1]}
cmd=("${spec[@]:count+2}")

# Options like `-e NAME` take the value from the environment (that is how secrets
# are passed): take it from the running container, never from a command line.
if docker inspect "$name" >/dev/null 2>&1; then
  for i in "${!opts[@]}"; do
    [[ ${opts[i]} == -e || ${opts[i]} == --env ]] || continue
    var=${opts[i + 1]}
    [[ $var == *=* ]] && continue
    if value=$(docker inspect -f '{{json .Config.Env}}' "$name" |
      jq -er --arg n "$var" '.[] | select(startswith($n + "=")) | sub("^[^=]*="; "")'); then
      export "$var=$value"
    fi
  done
fi

pull_images true "$new_image"
log "rolling $name: $old_image -> $new_image"
run_container "$name" "$new_image" "${opts[@]}" -- "${cmd[@]}"
sleep 2
state=$(docker inspect -f '{{.State.Status}}' "$name")
[[ $state == running ]] || die "$name is $state after the roll; last log lines:
$(docker logs --tail 20 "$name" 2>&1)"
log "$name runs $new_image"
