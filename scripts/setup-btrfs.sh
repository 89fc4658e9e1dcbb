#!/bin/bash
# ---
# RightScript Name: Setup Btrfs Docker Root
# Description: Formats the ephemeral drive with btrfs (unless it already is btrfs),
#   mounts it, and moves Docker's data root onto it with the btrfs storage driver. Ends
#   by checking that docker info reports Storage Driver btrfs.
# Packages: btrfs-progs jq
# Inputs:
#   EPHEMERAL_DEVICE:
#     Category: Storage
#     Description: Block device of the ephemeral drive. Everything on it is erased unless
#       it already holds btrfs.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:/dev/xvdb
#   DOCKER_DATA_ROOT:
#     Category: Storage
#     Description: Where the drive is mounted; Docker's data root (images, containers
#       and named volumes).
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

dev=$EPHEMERAL_DEVICE
root=${DOCKER_DATA_ROOT%/}
[[ $root == /?* ]] || die "DOCKER_DATA_ROOT must be an absolute path other than /"
[[ -b $dev ]] || die "EPHEMERAL_DEVICE $dev is not a block device"
command -v dockerd >/dev/null || die "dockerd is not installed: run Install Docker first"
apt_install btrfs-progs jq

# Same block device? (A loop device may show up as /dev/loopN or under its alias.)
same_device() { [[ $1 == "$2" || $(stat -L -c %t:%T "$1" 2>/dev/null) == $(stat -L -c %t:%T "$2" 2>/dev/null) ]]; }

fstype=$(blkid -o value -s TYPE "$dev" || true)
if [[ $fstype == btrfs ]]; then
  log "$dev already holds btrfs: not formatting"
else
  # Cloud images sometimes mount the ephemeral drive (e.g. on /mnt): release it first.
  while IFS= read -r target; do
    [[ -n $target ]] || continue
    case $target in
      / | /boot* | /usr* | /var | /etc* | /home*) die "$dev is mounted on $target: refusing to format it" ;;
    esac
    log "unmounting $dev from $target (it held ${fstype:-no filesystem})"
    umount "$target"
  done < <(findmnt -rn -o TARGET -S "$dev" || true)
  if [[ -f /etc/fstab ]]; then sed -i "\\|^${dev}[[:space:]]|s|^|# stackscripts: |" /etc/fstab; fi
  log "formatting $dev with btrfs (it held ${fstype:-no filesystem})"
  mkfs.btrfs -q -f -L ephemeral0 "$dev" >/dev/null
fi

if mountpoint -q "$root"; then
  source_dev=$(findmnt -rn -o SOURCE -M "$root")
  source_dev=${source_dev%%\[*}
  same_device "$source_dev" "$dev" || die "$root is already a mount point of $source_dev"
  log "$dev already mounted on $root"
else
  if docker_up; then
    log "stopping docker before mounting its data root"
    stop_docker
  fi
  log "mounting $dev on $root"
  mkdir -p "$root"
  mount -t btrfs -o noatime "$dev" "$root"
fi
if ! awk -v r="$root" '$1 !~ /^#/ && $2 == r { found = 1 } END { exit !found }' /etc/fstab 2>/dev/null; then
  uuid=$(blkid -o value -s UUID "$dev")
  printf 'UUID=%s %s btrfs noatime,nofail 0 0\n' "$uuid" "$root" >>/etc/fstab
fi

driver='' current_root=''
if docker_up; then
  driver=$(docker info -f '{{.Driver}}')
  current_root=$(docker info -f '{{.DockerRootDir}}')
fi
if [[ $driver == btrfs && $current_root == "$root" ]]; then
  log "docker already uses btrfs on $root"
else
  old_root=${current_root:-/var/lib/docker}
  stop_docker
  # Images and containers of the old storage driver cannot move; named volumes can.
  if [[ $old_root != "$root" && -d $old_root/volumes && ! -e $root/volumes ]]; then
    log "copying named volumes from $old_root to $root"
    cp -a "$old_root/volumes" "$root/"
  fi
  log "switching docker to the btrfs storage driver on $root"
  # shellcheck disable=SC2016
  daemon_json_update '.["data-root"] = $root | .["storage-driver"] = "btrfs"' --arg root "$root" || true
  start_docker
fi

driver=$(docker info -f '{{.Driver}}')
[[ $driver == btrfs ]] || die "docker info reports Storage Driver: $driver, expected btrfs (see $daemon_json)"
current_root=$(docker info -f '{{.DockerRootDir}}')
[[ $current_root == "$root" ]] || die "docker data root is $current_root, expected $root"
log "docker info reports Storage Driver: btrfs, data root $root ($(df -h --output=size "$root" | tail -n1 | tr -d ' ') on $dev)"
