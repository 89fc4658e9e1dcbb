#!/bin/bash
# ---
# RightScript Name: Packages Install StatsD
# Description: StatsD is not packaged in Debian 12, so this installs Debian's nodejs and StatsD from the npm
#   registry's tarballs (the same statsd-install.sh, pinned versions and sha512 as the demo's graphite
#   image), and runs it as _statsd on UDP 8125 (admin TCP 8126), flushing to the local carbon-cache.
# Packages: nodejs
# Inputs:
#   NPM_REGISTRY:
#     Category: StatsD
#     Description: npm registry the StatsD tarballs come from (their sha512 is checked whatever the
#       registry).
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:https://registry.npmjs.org
# Attachments:
# - stackscripts-lib.sh
# - services-lib.sh
# - statsd-install.sh
# - statsd-config.js
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
# shellcheck source-path=SCRIPTDIR source=attachments/services-lib.sh
source "$RS_ATTACH_DIR/services-lib.sh"
require_root

apt_install nodejs
getent passwd _statsd >/dev/null ||
  adduser --system --group --no-create-home --disabled-password _statsd >/dev/null

config_before=$(cat /etc/statsd/config.js 2>/dev/null || true)
if [[ ! -f /opt/statsd/stats.js ]] || [[ $config_before != "$(cat "$RS_ATTACH_DIR/statsd-config.js")" ]]; then
  NPM_REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org} \
    bash "$RS_ATTACH_DIR/statsd-install.sh" install /opt/statsd /var/cache/stackscripts/npm | sed 's/^/stackscripts: /'
  stop_background statsd
fi
if ! wait_port 127.0.0.1 8126 0; then
  log "starting statsd (log: /var/log/statsd.log)"
  background statsd _statsd /var/log/statsd.log node /opt/statsd/stats.js /etc/statsd/config.js
fi
wait_port 127.0.0.1 8126 30 || die "statsd does not answer on its admin port 8126; $(log_tail /var/log/statsd.log)"
health=$(printf 'health\n' | timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/8126; cat >&3; head -n1 <&3' 2>/dev/null || true)
log "statsd $(node -e 'console.log(require("/opt/statsd/package.json").version)') on UDP 8125, admin 8126: ${health:-no answer}"
