#!/bin/bash
# ---
# RightScript Name: Packages Install Graphite
# Description: Installs Graphite from Debian's packages - carbon-cache (graphite-carbon,
#   plaintext port 2003) and the graphite-web UI served by Apache with mod_wsgi on port
#   80. StatsD is not packaged in Debian 12; see Packages Install StatsD.
# Packages: graphite-carbon graphite-web apache2 libapache2-mod-wsgi-py3
# Inputs:
#   GRAPHITE_TIMEZONE:
#     Category: Graphite
#     Description: Time zone of the graphite-web graphs.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:UTC
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

tz=${GRAPHITE_TIMEZONE:-UTC}
[[ $tz =~ ^[A-Za-z0-9_+/-]+$ ]] || die "GRAPHITE_TIMEZONE '$tz' is not a time zone name"
apt_install_nostart graphite-carbon graphite-web apache2 libapache2-mod-wsgi-py3 curl

# carbon-cache: enabled in /etc/default, with a retention matching StatsD's 10s flushes.
sed -i 's/^CARBON_CACHE_ENABLED=.*/CARBON_CACHE_ENABLED=true/' /etc/default/graphite-carbon
schemas=/etc/carbon/storage-schemas.conf
if ! grep -q '^\[stats\]' "$schemas"; then
  log "adding a retention schema for StatsD metrics"
  printf '[stats]\npattern = ^stats.*\nretentions = 10s:6h,1m:7d,10m:1y\n\n%s\n' "$(cat "$schemas")" >"$schemas.new"
  mv "$schemas.new" "$schemas"
fi

# graphite-web: a secret key made once, the time zone, the database schema.
settings=/etc/graphite/local_settings.py
if ! grep -q '^SECRET_KEY' "$settings"; then
  printf "SECRET_KEY = '%s'\n" "$(head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=')" >>"$settings"
fi
if grep -q '^TIME_ZONE' "$settings"; then
  sed -i "s|^TIME_ZONE.*|TIME_ZONE = '$tz'|" "$settings"
else
  printf "TIME_ZONE = '%s'\n" "$tz" >>"$settings"
fi
log "migrating the graphite-web database"
runuser -u _graphite -- graphite-manage migrate --run-syncdb --verbosity 0

reload=false
# Debian 12's graphite.wsgi imports graphite.local_settings, which the package keeps
# in /etc/graphite only: without this link the web UI ignores its settings.
pkgdir=$(python3 -c 'import graphite, os; print(os.path.dirname(graphite.__file__))')
if [[ ! -e $pkgdir/local_settings.py ]]; then
  ln -s "$settings" "$pkgdir/local_settings.py"
  reload=true
fi
if [[ ! -e /etc/apache2/sites-enabled/graphite.conf ]]; then
  log "enabling the graphite site in Apache"
  cp /usr/share/graphite-web/apache2-graphite.conf /etc/apache2/sites-available/graphite.conf
  a2dissite -q 000-default >/dev/null || true
  a2enmod -q wsgi >/dev/null
  a2ensite -q graphite >/dev/null
  reload=true
fi
if [[ $reload == true ]] && wait_port 127.0.0.1 80 0; then start_service apache2 restart; fi

for entry in carbon-cache:2003 apache2:80; do
  name=${entry%:*} port=${entry#*:}
  if ! wait_port 127.0.0.1 "$port" 0; then
    log "starting $name"
    start_service "$name" start || die "could not start $name"
    if has_systemd; then systemctl enable "$name" >/dev/null 2>&1 || true; fi
  fi
  wait_port 127.0.0.1 "$port" 60 || die "$name does not answer on port $port within 60s"
  log "$name answers on port $port"
done
code=$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1/render/?target=carbon.agents.*&format=json' || true)
[[ $code == 200 ]] || die "graphite-web answers HTTP $code on /render (see /var/log/apache2/)"
log "graphite-web renders graphs"
