#!/bin/bash
# ---
# RightScript Name: Packages Prep
# Description: Prepares a Debian server for the package-installed version of the application
#   stack - refreshes the package lists, installs the base tools, adds CA_CERTIFICATES to the
#   system's trust store and creates the application user and directory.
# Packages: ca-certificates curl jq procps
# Inputs:
#   APP_USER:
#     Category: Application
#     Description: System user that owns and runs the applications.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:app
#   APP_HOME:
#     Category: Application
#     Description: Directory of the applications (releases, logs, configuration).
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:/srv/app
#   CA_CERTIFICATES:
#     Category: Network
#     Description: PEM certificates to trust besides Debian's, e.g. the CA of a TLS-inspecting
#       proxy between this server and the npm registry. Empty means none.
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

user=${APP_USER:-app}
home=${APP_HOME:-/srv/app}
[[ $user =~ ^[a-z_][a-z0-9_-]*$ ]] || die "APP_USER '$user' is not a valid user name"
[[ $home == /?* ]] || die "APP_HOME must be an absolute path"

log "refreshing package lists"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt_install ca-certificates curl jq procps

if [[ -n ${CA_CERTIFICATES:-} ]]; then
  grep -q -- '-----BEGIN CERTIFICATE-----' <<<"$CA_CERTIFICATES" || die "CA_CERTIFICATES holds no PEM certificate"
  bundle=/usr/local/share/ca-certificates/stackscripts-extra.crt
  if [[ $(cat "$bundle" 2>/dev/null) != "$CA_CERTIFICATES" ]]; then
    printf '%s\n' "$CA_CERTIFICATES" >"$bundle"
    update-ca-certificates >/dev/null
    log "trusting $(grep -c -- '-----BEGIN CERTIFICATE-----' "$bundle") more CA certificates"
  fi
fi

if getent passwd "$user" >/dev/null; then
  log "user $user exists"
else
  log "creating system user $user (home $home)"
  adduser --system --group --home "$home" --shell /bin/bash --disabled-password "$user" >/dev/null
fi
install -d -o "$user" -g "$user" -m 0755 "$home" "$home/releases" "$home/log"
log "prepared $(sed -n "s/^PRETTY_NAME=//p" /etc/os-release | tr -d '"'): user $user, $home"
