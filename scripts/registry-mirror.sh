#!/bin/bash
# ---
# RightScript Name: Mirror Images Into Registry
# Description: Copies images from a source registry (Docker Hub by default) into this
#   server's private registry with skopeo, in parallel, so that servers which cannot
#   reach public registries can pull them. Does nothing when MIRROR_IMAGES is empty.
#   Runs after Registry Server, and pushes to the address where that script left the
#   registry itself (behind a throttling proxy, the mirror does not go through it).
# Packages: skopeo
# Inputs:
#   MIRROR_IMAGES:
#     Category: Mirror
#     Description: Images to copy, as repository:tag relative to MIRROR_SOURCE (e.g.
#       library/redis:7). Empty means nothing to mirror.
#     Input Type: array
#     Required: false
#     Advanced: false
#     Default: blank
#   MIRROR_SOURCE:
#     Category: Mirror
#     Description: Registry to copy from (host or host:port).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:docker.io
#   MIRROR_SOURCE_TLS:
#     Category: Mirror
#     Description: Whether the source registry speaks HTTPS with a valid certificate.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:true
#     Possible Values:
#     - text:true
#     - text:false
#   REGISTRY_USERNAME:
#     Category: Registry
#     Description: User allowed to push and pull.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:stackscripts
#   REGISTRY_PASSWORD:
#     Category: Registry
#     Description: Password of REGISTRY_USERNAME (written to a 0600 auth file, never
#       on a command line).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:REGISTRY_PASSWORD
#   REGISTRY_PORT:
#     Category: Registry
#     Description: TCP port of this server's registry (used when Registry Server left no
#       address of the registry itself).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:5000
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

images=()
while IFS= read -r item; do
  [[ -n $item ]] && images+=("$item")
done <<< "${MIRROR_IMAGES:-}"
if [[ ${#images[@]} -eq 0 ]]; then
  log "MIRROR_IMAGES is empty: nothing to mirror"
  exit 0
fi
source_registry=${MIRROR_SOURCE:-docker.io}
src_tls=${MIRROR_SOURCE_TLS:-true}
[[ $src_tls == true || $src_tls == false ]] || die "MIRROR_SOURCE_TLS must be true or false"
port=${REGISTRY_PORT:-5000}
[[ $port =~ ^[1-9][0-9]{0,4}$ ]] || die "REGISTRY_PORT must be a port number"
[[ -n ${REGISTRY_PASSWORD:-} ]] || die "REGISTRY_PASSWORD is empty"

apt_install skopeo

# Registry Server says where the registry itself answers (127.0.0.1:REGISTRY_BACKEND_PORT behind
# the throttling proxy); images are copied there, not slowed down by the proxy.
dest=127.0.0.1:$port
if [[ -s $ss_state_dir/registry-local ]]; then
  dest=$(<"$ss_state_dir/registry-local")
  [[ $dest =~ ^127\.0\.0\.1:[1-9][0-9]{0,4}$ ]] || die "$ss_state_dir/registry-local does not hold 127.0.0.1:PORT: run Registry Server again"
fi

# The registry's credentials go into a 0600 auth file in the private working directory,
# never onto a command line.
authfile=$PWD/auth.json
(umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$dest" \
  "$(printf '%s:%s' "$REGISTRY_USERNAME" "$REGISTRY_PASSWORD" | base64 -w0)" > "$authfile")

log "mirroring ${#images[@]} images from $source_registry into $dest (in parallel)"
start=$SECONDS
pids=()
for image in "${images[@]}"; do
  [[ $image =~ ^[a-z0-9._/-]+(:[A-Za-z0-9._-]+)?$ ]] || die "invalid image name: $image"
  skopeo copy --quiet --retry-times 3 --src-tls-verify="$src_tls" --dest-tls-verify=false \
    --dest-authfile "$authfile" "docker://$source_registry/$image" "docker://$dest/$image" &
  pids+=("$!")
done
failed=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then log "mirrored ${images[$i]}"; else log "FAILED to mirror ${images[$i]}"; failed=1; fi
done
rm -f "$authfile"
((failed == 0)) || die "some images could not be mirrored from $source_registry"
log "mirrored ${#images[@]} images in $((SECONDS - start))s"
