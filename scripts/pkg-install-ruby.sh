#!/bin/bash
# ---
# RightScript Name: Packages Install Ruby
# Description: Installs Ruby (ruby-full), Bundler and what native gems usually need
#   to build (compiler, MariaDB client, OpenSSL, libyaml and zlib headers) from Debian.
# Packages: ruby-full bundler build-essential default-libmysqlclient-dev libssl-dev
#   libyaml-dev zlib1g-dev git
# Inputs: {}
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

apt_install ruby-full bundler build-essential default-libmysqlclient-dev \
  libssl-dev libyaml-dev zlib1g-dev git pkg-config
log "$(ruby --version)"
log "$(bundle --version)"
