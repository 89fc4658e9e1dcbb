#!/bin/bash
# ---
# RightScript Name: Unmount Ephemeral Drive
# Description: Stops the Docker engine (its containers stop with it) and unmounts the
#   btrfs ephemeral drive that holds Docker's data root.
# Inputs:
#   DOCKER_DATA_ROOT:
#     Category: Storage
#     Description: Mount point of the ephemeral drive (Docker's data root).
#     Input Type: single
#     Required: true
#     Advanced: true
#     Default: text:/mnt/docker
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

root=${DOCKER_DATA_ROOT%/}
[[ $root == /?* ]] || die "DOCKER_DATA_ROOT must be an absolute path other than /"
if command -v dockerd >/dev/null; then stop_docker; fi

if ! mountpoint -q "$root"; then
  log "$root is not mounted: nothing to do"
  exit 0
fi
log "unmounting $root"
sync
if ! umount "$root"; then
  users=$(for p in /proc/[0-9]*; do
    for link in "$p/cwd" "$p/root" "$p"/fd/*; do
      target=$(readlink "$link" 2>/dev/null) || continue
      if [[ $target == "$root" || $target == "$root"/* ]]; then
        printf '%s(%s) ' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)"
        break
      fi
    done
  done)
  die "cannot unmount $root; processes using it: ${users:-unknown}"
fi
log "$root unmounted"
