#!/bin/bash
# ---
# RightScript Name: Packages Prep
# Description: Prepares a Debian server for the package-installed version of the application
#   stack - refreshes the package lists, installs the base tools and creates the application
#   user and directory.
# Packages: ca-certificates curl jq netcat-openbsd
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
apt_install ca-certificates curl jq netcat-openbsd procps

if getent passwd "$user" >/dev/null; then
  log "user $user exists"
else
  log "creating system user $user (home $home)"
  adduser --system --group --home "$home" --shell /bin/bash --disabled-password "$user" >/dev/null
fi
install -d -o "$user" -g "$user" -m 0755 "$home" "$home/releases" "$home/log"
log "prepared $(sed -n "s/^PRETTY_NAME=//p" /etc/os-release | tr -d '"'): user $user, $home"
