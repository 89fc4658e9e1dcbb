#!/bin/bash
# ---
# RightScript Name: Install Docker
# Description: Installs the Docker engine from the distribution's packages, merges the
#   attached daemon.json into /etc/docker/daemon.json, starts dockerd (systemd, init
#   script or a background daemon) and waits until docker info answers.
# Packages: jq
# Inputs:
#   DOCKER_PACKAGE:
#     Category: Docker
#     Description: Package that provides the engine. docker.io comes from Debian; docker-ce
#       adds Docker's own apt repository first.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:docker.io
#     Possible Values:
#     - text:docker.io
#     - text:docker-ce
#   DOCKER_LOG_MAX_SIZE:
#     Category: Docker
#     Description: Size at which a container's json-file log is rotated (3 files are
#       kept).
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:10m
#   DOCKER_MAX_CONCURRENT_DOWNLOADS:
#     Category: Docker
#     Description: Layers dockerd downloads at once for each pull (max-concurrent-downloads).
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:6
# Attachments:
# - daemon.json.j2
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

package=${DOCKER_PACKAGE:-docker.io}
case $package in
  docker.io) packages=(docker.io) ;;
  docker-ce) packages=(docker-ce docker-ce-cli containerd.io) ;;
  *) die "DOCKER_PACKAGE must be docker.io or docker-ce, not '$package'" ;;
esac
[[ ${DOCKER_MAX_CONCURRENT_DOWNLOADS:-6} =~ ^[1-9][0-9]*$ ]] ||
  die "DOCKER_MAX_CONCURRENT_DOWNLOADS must be a positive integer"

apt_install jq ca-certificates

if [[ $package == docker-ce && ! -f /etc/apt/sources.list.d/docker.list ]]; then
  log "adding Docker's apt repository"
  apt_install curl
  install -m 0755 -d /etc/apt/keyrings
  curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc
  codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
  printf 'deb [arch=%s signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian %s stable\n' \
    "$(dpkg --print-architecture)" "$codename" >/etc/apt/sources.list.d/docker.list
fi

if ! command -v dockerd >/dev/null; then
  # The daemon is started below, once daemon.json is in place.
  apt_install_nostart "${packages[@]}"
else
  log "docker engine already installed ($(dockerd --version))"
fi

# The attachment wins for the keys it sets; keys added by later steps (data-root,
# storage-driver, insecure-registries) are kept, so a second run changes nothing.
attached=$RS_ATTACH_DIR/daemon.json
jq -e 'type == "object"' "$attached" >/dev/null || die "the daemon.json attachment is not a JSON object"
log "daemon.json: log rotation at ${DOCKER_LOG_MAX_SIZE:-10m}, ${DOCKER_MAX_CONCURRENT_DOWNLOADS:-6} concurrent downloads"
changed=false
# shellcheck disable=SC2016
if daemon_json_update '. * $attached' --argjson attached "$(jq -c . "$attached")"; then changed=true; fi

# On a second boot the data root may live on an ephemeral drive that nothing has
# mounted yet (no systemd to read /etc/fstab): mount it, or leave docker stopped
# for Setup Btrfs Docker Root, rather than start it on the wrong filesystem.
data_root=$(jq -r '.["data-root"] // empty' "$daemon_json")
if [[ -n $data_root ]] && ! mountpoint -q "$data_root" &&
  awk -v r="$data_root" '$1 !~ /^#/ && $2 == r { found = 1 } END { exit !found }' /etc/fstab 2>/dev/null; then
  if mount "$data_root"; then
    log "mounted $data_root from /etc/fstab"
  else
    docker_up && stop_docker
    log "$data_root (docker's data root) cannot be mounted: docker stays stopped until Setup Btrfs Docker Root"
    exit 0
  fi
fi

if [[ $changed == true ]] && docker_up; then
  log "$daemon_json changed: restarting docker"
  restart_docker
else
  start_docker
fi

if has_systemd; then systemctl enable docker >/dev/null 2>&1 || true; fi
log "docker is up: $(docker version -f 'server {{.Server.Version}}'), storage driver $(docker info -f '{{.Driver}}')"
