#!/bin/bash
# graphite-setup.sh: Graphite from Debian's graphite-carbon and graphite-web (served by Debian's gunicorn),
# set up the same way in the graphite image (demo/images/graphite) and in Packages Install Graphite.
#   graphite-setup.sh configure  carbon-cache enabled (plaintext 2003, pickle 2004) with a 10 s retention for
#                                StatsD's stats.* metrics; graphite-web's settings and database
#   graphite-setup.sh web        graphite-web under gunicorn in the foreground on GRAPHITE_HTTP_PORT (80)
#   graphite-setup.sh run DEST   the image's command: carbon-cache, graphite-web and StatsD (installed in
#                                DEST by statsd-install.sh) in the foreground; ends when one of them ends
set -euo pipefail

settings=/etc/graphite/local_settings.py
secret=/var/lib/graphite/secret_key
here=$(cd "$(dirname "$0")" && pwd)
fail() { printf 'graphite-setup: ERROR: %s\n' "$*" >&2; exit 1; }

# A secret key made on the machine that serves graphite-web (never baked into an image).
ensure_secret() {
  [[ -s $secret ]] && return 0
  (umask 027 && head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=' >"$secret")
  chgrp _graphite "$secret"
}

configure() {
  [[ -f $settings ]] || fail "$settings is missing: install graphite-web first"
  sed -i 's/^CARBON_CACHE_ENABLED=.*/CARBON_CACHE_ENABLED=true/' /etc/default/graphite-carbon
  cat >/etc/carbon/storage-schemas.conf <<'SCHEMAS'
# Written by graphite-setup.sh (stackscripts).
[carbon]
pattern = ^carbon\.
retentions = 60:90d

[stats]
pattern = ^stats.*
retentions = 10s:6h,1m:7d,10m:1y

[default]
pattern = .*
retentions = 10s:6h,1m:7d,1h:3y
SCHEMAS
  if ! grep -q '^SECRET_KEY' "$settings"; then
    printf "SECRET_KEY = open('%s').read().strip()\n" "$secret" >>"$settings"
  fi
  grep -q '^TIME_ZONE' "$settings" || printf "TIME_ZONE = 'UTC'\n" >>"$settings"
  # Debian 12's graphite package imports graphite.local_settings, which lives in /etc/graphite only.
  local pkgdir
  pkgdir=$(python3 -c 'import graphite, os; print(os.path.dirname(graphite.__file__))')
  [[ -e $pkgdir/local_settings.py ]] || ln -s "$settings" "$pkgdir/local_settings.py"
  install -d -o _graphite -g _graphite /var/lib/graphite/whisper /var/log/graphite /var/log/carbon
  ensure_secret
  local out
  out=$(runuser -u _graphite -- graphite-manage migrate --run-syncdb --verbosity 0 2>&1) ||
    fail "graphite-manage migrate failed: $out"
  printf 'graphite-setup: carbon-cache on 2003/2004, graphite-web database in /var/lib/graphite\n'
}

web() {
  ensure_secret
  exec gunicorn --bind "0.0.0.0:${GRAPHITE_HTTP_PORT:-80}" --workers 2 --timeout 60 --user _graphite \
    --group _graphite --access-logfile - --error-logfile - --chdir /var/lib/graphite graphite.wsgi:application
}

run() {
  local dest=$1 pids=() status=0 names=(carbon-cache graphite-web statsd) i
  ensure_secret
  carbon-cache --config=/etc/carbon/carbon.conf --pidfile=/run/carbon-cache.pid --logdir=/var/log/carbon \
    --nodaemon start &
  pids+=($!)
  "$here/graphite-setup.sh" web &
  pids+=($!)
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$here/statsd-install.sh" run "$dest" &
  pids+=($!)
  trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 0' TERM INT
  wait -n || status=$?
  for i in "${!pids[@]}"; do
    kill -0 "${pids[i]}" 2>/dev/null || printf 'graphite-setup: %s exited (status %s)\n' "${names[i]}" "$status" >&2
  done
  kill "${pids[@]}" 2>/dev/null || true
  exit 1
}

case ${1:-} in
  configure) configure ;;
  web) web ;;
  run) run "${2:?graphite-setup.sh run DEST}" ;;
  *) fail "usage: graphite-setup.sh configure | web | run DEST" ;;
esac
