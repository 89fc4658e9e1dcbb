#!/bin/bash
# ---
# RightScript Name: Packages Launch Apps
# Description: Deploys the application from a source archive into a new release directory,
#   installs its gems with Bundler and runs the API and the worker as the application
#   user, with the local services' endpoints in their environment.
# Inputs:
#   APP_ARCHIVE_URL:
#     Category: Application
#     Description: URL of a .tar.gz of the application source (Gemfile and Gemfile.lock
#       at its top).
#     Input Type: single
#     Required: true
#     Advanced: false
#   APP_API_COMMAND:
#     Category: Application
#     Description: Shell command that runs the API in the release directory (PORT is
#       set).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:bundle exec puma
#   APP_API_PORT:
#     Category: Application
#     Description: Port of the API.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8080
#   APP_WORKER_COMMAND:
#     Category: Application
#     Description: Shell command that runs the worker in the release directory (PORT
#       is set).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:bundle exec ruby worker.rb
#   APP_WORKER_PORT:
#     Category: Application
#     Description: Port of the worker's status endpoint.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8081
#   APP_ENV:
#     Category: Application
#     Description: Extra KEY=VALUE settings for both processes.
#     Input Type: array
#     Required: false
#     Advanced: true
#   APP_USER:
#     Category: Application
#     Description: System user that runs the applications.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:app
#   APP_HOME:
#     Category: Application
#     Description: Directory of the applications.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:/srv/app
#   MARIADB_DATABASE:
#     Category: Database
#     Description: Database the applications use.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_USER:
#     Category: Database
#     Description: Database user of the applications.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_PASSWORD:
#     Category: Database
#     Description: Password of MARIADB_USER (kept in APP_HOME/app.env, mode 0600).
#     Input Type: single
#     Required: false
#     Advanced: false
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

user=${APP_USER:-app}
home=${APP_HOME:-/srv/app}
getent passwd "$user" >/dev/null || die "user $user does not exist: run Packages Prep first"
command -v bundle >/dev/null || die "bundler is missing: run Packages Install Ruby first"
apt_install curl

log "downloading $APP_ARCHIVE_URL"
curl -fsSL --retry 3 -o app.tgz "$APP_ARCHIVE_URL"
release=$home/releases/$(sha256sum app.tgz | cut -c1-12)
if [[ ! -f $release/.stackscripts-bundled ]]; then
  log "unpacking and bundling release $release"
  rm -rf "$release"
  install -d -o "$user" -g "$user" "$release"
  runuser -u "$user" -- tar -xzf - -C "$release" --no-same-owner <app.tgz
  [[ -f $release/Gemfile ]] || die "the archive has no Gemfile at its top"
  (cd "$release" && env -i PATH="$safe_path" HOME="$home" runuser -u "$user" -- bash -c \
    'bundle config set --local deployment true && bundle config set --local without "development test" &&
     bundle install --jobs 4 --quiet')
  touch "$release/.stackscripts-bundled"
fi
ln -sfn "$release" "$home/current"

# The environment of both processes; 0600 because it may hold the database password.
envfile=$home/app.env
(
  umask 077
  {
    printf 'export %s=%q\n' RACK_ENV production ZOOKEEPER_CONNECT localhost:2181 \
      KAFKA_BOOTSTRAP_SERVERS localhost:9092 REDIS_URL redis://localhost:6379/0 \
      MARIADB_HOST 127.0.0.1 MARIADB_PORT 3306 MARIADB_DATABASE "${MARIADB_DATABASE:-app}" \
      MARIADB_USER "${MARIADB_USER:-app}" MARIADB_PASSWORD "${MARIADB_PASSWORD:-}" \
      STATSD_HOST 127.0.0.1 STATSD_PORT 8125 GRAPHITE_HOST 127.0.0.1 GRAPHITE_PORT 2003
    while IFS= read -r setting; do
      [[ -n $setting ]] || continue
      [[ $setting =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "APP_ENV item '${setting%%=*}' is not KEY=VALUE"
      printf 'export %s=%q\n' "${setting%%=*}" "${setting#*=}"
    done <<<"${APP_ENV:-}"
  } >"$envfile.new"
)
chown "$user:" "$envfile.new"
mv "$envfile.new" "$envfile"

install -d -o "$user" -g "$user" "$home/bin" "$home/log"
for app in "api:${APP_API_PORT:-8080}:${APP_API_COMMAND:-bundle exec puma}" \
  "worker:${APP_WORKER_PORT:-8081}:${APP_WORKER_COMMAND:-bundle exec ruby worker.rb}"; do
  IFS=: read -r name port command <<<"$app"
  launcher=$home/bin/run-$name
  printf '#!/bin/bash\nset -a\n. %q\nset +a\nexport PORT=%q\ncd %q\nexec %s\n' \
    "$envfile" "$port" "$home/current" "$command" >"$launcher"
  chmod 0755 "$launcher"
  state=$(cat "$launcher" "$envfile" <(readlink "$home/current") | sha256sum | cut -c1-16)
  statefile=$home/.app-$name.state pidfile=/run/stackscripts-app-$name.pid
  if [[ $(cat "$statefile" 2>/dev/null || true) == "$state" ]] && wait_port 127.0.0.1 "$port" 0; then
    log "app-$name already runs this release and configuration"
    continue
  fi
  if has_systemd; then
    printf '[Unit]\nDescription=app-%s\nAfter=network.target\n[Service]\nUser=%s\nExecStart=%s\nRestart=on-failure\n[Install]\nWantedBy=multi-user.target\n' \
      "$name" "$user" "$launcher" >"/etc/systemd/system/app-$name.service"
    systemctl daemon-reload
    systemctl enable "app-$name" >/dev/null 2>&1
    systemctl restart "app-$name"
  else
    if pid=$(cat "$pidfile" 2>/dev/null) && kill "$pid" 2>/dev/null; then sleep 2; fi
    (
      cd /
      env -i PATH="$safe_path" HOME="$home" setsid nohup setpriv --reuid="$user" --regid="$user" --init-groups \
        "$launcher" </dev/null >>"$home/log/$name.log" 2>&1 &
      echo $! >"$pidfile"
    )
  fi
  wait_port 127.0.0.1 "$port" 90 || die "app-$name does not answer on port $port within 90s (see $home/log/$name.log)"
  printf '%s\n' "$state" >"$statefile"
  log "app-$name answers on port $port"
done
