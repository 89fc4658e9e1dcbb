#!/bin/bash
# ---
# RightScript Name: Packages Install StatsD
# Description: StatsD is not packaged in Debian 12, so this installs Debian's Node.js
#   and npm and the statsd npm package, and runs it on UDP 8125 (admin TCP 8126) flushing
#   to the local carbon-cache on port 2003.
# Packages: nodejs npm
# Inputs:
#   STATSD_NPM_PACKAGE:
#     Category: StatsD
#     Description: npm package spec of StatsD.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:statsd@0.9.0
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

spec=${STATSD_NPM_PACKAGE:-statsd@0.9.0}
apt_install nodejs npm jq netcat-openbsd
getent passwd _statsd >/dev/null ||
  adduser --system --group --no-create-home --disabled-password _statsd >/dev/null

installed=$(npm ls -g --depth=0 --json 2>/dev/null | jq -r '.dependencies.statsd.version // empty' || true)
if [[ -n $installed && $spec == *@"$installed" ]]; then
  log "statsd $installed already installed"
else
  log "installing $spec with npm"
  npm install -g --no-audit --no-fund --omit=dev "$spec" >/dev/null
fi
statsd_bin=$(command -v statsd) || die "npm did not install a statsd command"

mkdir -p /etc/statsd
cat >/etc/statsd/config.js.new <<'CONFIG'
// Written by the stackscripts "Packages Install StatsD" RightScript.
{
  graphiteHost: "127.0.0.1",
  graphitePort: 2003,
  port: 8125,
  mgmt_port: 8126,
  flushInterval: 10000,
  backends: ["./backends/graphite"]
}
CONFIG
changed=false
if ! cmp -s /etc/statsd/config.js.new /etc/statsd/config.js; then
  mv /etc/statsd/config.js.new /etc/statsd/config.js
  changed=true
else
  rm -f /etc/statsd/config.js.new
fi

pidfile=/run/stackscripts-statsd.pid
if has_systemd; then
  cat >/etc/systemd/system/statsd.service <<UNIT
[Unit]
Description=StatsD
After=network.target carbon-cache.service
[Service]
User=_statsd
ExecStart=$statsd_bin /etc/statsd/config.js
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable statsd >/dev/null 2>&1
  if [[ $changed == true ]]; then systemctl restart statsd; else systemctl start statsd; fi
else
  if [[ $changed == true ]] && pid=$(cat "$pidfile" 2>/dev/null) && kill "$pid" 2>/dev/null; then
    log "configuration changed: stopping statsd (pid $pid)"
    sleep 2
  fi
  if ! wait_port 127.0.0.1 8126 0; then
    log "starting statsd in the background (log: /var/log/statsd.log)"
    touch /var/log/statsd.log
    chown _statsd /var/log/statsd.log
    (
      cd /
      env -i PATH="$safe_path" setsid nohup setpriv --reuid=_statsd --regid=_statsd --init-groups \
        "$statsd_bin" /etc/statsd/config.js </dev/null >>/var/log/statsd.log 2>&1 &
      echo $! >"$pidfile"
    )
  fi
fi
wait_port 127.0.0.1 8126 30 || die "statsd does not answer on its admin port 8126 (see /var/log/statsd.log)"
log "statsd listens on UDP 8125: $(printf 'health\n' | nc -q1 127.0.0.1 8126 | head -n1 || true)"
