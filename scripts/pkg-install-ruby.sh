#!/bin/bash
# ---
# RightScript Name: Packages Install Ruby
# Description: Installs Ruby and the libraries the application uses from Debian's packages - ruby,
#   ruby-mysql2, ruby-redis and ruby-webrick, the same as the demo's application images - so that no gem
#   is fetched or compiled at boot.
# Packages: ruby ruby-mysql2 ruby-redis ruby-webrick
# Inputs: {}
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

apt_install ruby ruby-mysql2 ruby-redis ruby-webrick
versions=$(ruby -e 'require "mysql2"; require "redis"; require "webrick"
  puts "ruby #{RUBY_VERSION}, mysql2 #{Mysql2::VERSION}, redis #{Redis::VERSION}, webrick #{WEBrick::VERSION}"') ||
  die "Ruby cannot load mysql2, redis and webrick"
log "$versions"
