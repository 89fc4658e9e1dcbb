#!/bin/bash
# ---
# RightScript Name: Packages Install Graphite
# Description: Installs Graphite from Debian's packages, set up like the demo's graphite image (the same
#   graphite-setup.sh) - carbon-cache (graphite-carbon; plaintext 2003, pickle 2004) started by its init
#   script, and graphite-web served by Debian's gunicorn on port 80. StatsD has its own script.
# Packages: graphite-carbon graphite-web gunicorn
# Inputs: {}
# Attachments:
# - stackscripts-lib.sh
# - services-lib.sh
# - graphite-setup.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
# shellcheck source-path=SCRIPTDIR source=attachments/services-lib.sh
source "$RS_ATTACH_DIR/services-lib.sh"
require_root

apt_install_nostart graphite-carbon graphite-web gunicorn
install -d /usr/local/lib/stackscripts
install -m 0755 "$RS_ATTACH_DIR/graphite-setup.sh" /usr/local/lib/stackscripts/graphite-setup.sh
bash /usr/local/lib/stackscripts/graphite-setup.sh configure | sed 's/^/stackscripts: /'

if ! wait_port 127.0.0.1 2003 0; then
  log "starting carbon-cache"
  start_service carbon-cache start || die "could not start carbon-cache (see /var/log/carbon/)"
  if has_systemd; then systemctl enable carbon-cache >/dev/null 2>&1 || true; fi
fi
wait_port 127.0.0.1 2003 60 || die "carbon-cache does not answer on port 2003 within 60s; $(log_tail /var/log/carbon/console.log)"
log "carbon-cache answers on port 2003"

if ! wait_port 127.0.0.1 80 0; then
  log "starting graphite-web under gunicorn (log: /var/log/graphite/gunicorn.log)"
  # As root: gunicorn binds port 80, then runs its workers as _graphite.
  background graphite-web root /var/log/graphite/gunicorn.log /usr/local/lib/stackscripts/graphite-setup.sh web
fi
wait_port 127.0.0.1 80 60 || die "graphite-web does not answer on port 80 within 60s; $(log_tail /var/log/graphite/gunicorn.log)"
start=$SECONDS
until code=$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1/render?target=carbon.agents.*&format=json') &&
  [[ $code == 200 ]]; do
  ((SECONDS - start < 30)) || die "graphite-web answers HTTP $code on /render; $(log_tail /var/log/graphite/gunicorn.log)"
  sleep 1
done
log "graphite-web renders JSON on port 80"
