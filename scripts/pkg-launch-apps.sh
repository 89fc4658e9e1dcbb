#!/bin/bash
# ---
# RightScript Name: Packages Launch Apps
# Description: Deploys the application - the same app-*.rb files as the demo's application images,
#   attached to this script, or a source archive from APP_ARCHIVE_URL - into a release directory, and runs
#   the API and the worker as the application user in the background, with the local services' endpoints
#   in their environment. Waits until both answer on their ports.
# Inputs:
#   APP_ARCHIVE_URL:
#     Category: Application
#     Description: URL of a .tar.gz of another application to deploy instead of the attached one
#       (Gemfile at its top means Bundler installs its gems). Unset means the attached application.
#     Input Type: single
#     Required: false
#     Advanced: true
#   APP_API_COMMAND:
#     Category: Application
#     Description: Shell command that runs the API in the release directory (PORT is
#       set).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:ruby app-api.rb
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
#     Default: text:ruby app-worker.rb
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
#     Description: Password of MARIADB_USER (kept in APP_HOME/app.env, mode 0600). Unset means the
#       one Packages Install Services made on this server.
#     Input Type: single
#     Required: false
#     Advanced: false
# Attachments:
# - stackscripts-lib.sh
# - services-lib.sh
# - app-common.rb
# - app-api.rb
# - app-worker.rb
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
# shellcheck source-path=SCRIPTDIR source=attachments/services-lib.sh
source "$RS_ATTACH_DIR/services-lib.sh"
require_root

user=${APP_USER:-app}
home=${APP_HOME:-/srv/app}
getent passwd "$user" >/dev/null || die "user $user does not exist: run Packages Prep first"
command -v ruby >/dev/null || die "ruby is missing: run Packages Install Ruby first"
db_password=$(mariadb_app_password "${MARIADB_PASSWORD:-}") ||
  die "MARIADB_PASSWORD is unset and no password was made on this server: run Packages Install Services first"

if [[ -n ${APP_ARCHIVE_URL:-} ]]; then
  apt_install curl
  log "downloading $APP_ARCHIVE_URL"
  curl -fsSL --retry 3 -o app.tgz "$APP_ARCHIVE_URL"
  release=$home/releases/$(sha256sum app.tgz | cut -c1-12)
  if [[ ! -f $release/.stackscripts-ready ]]; then
    log "unpacking release $release"
    rm -rf "$release"
    install -d -o "$user" -g "$user" "$release"
    runuser -u "$user" -- tar -xzf - -C "$release" --no-same-owner <app.tgz
    if [[ -f $release/Gemfile ]]; then
      command -v bundle >/dev/null || apt_install bundler
      log "installing the release's gems with Bundler"
      (cd "$release" && env -i PATH="$safe_path" HOME="$home" runuser -u "$user" -- bash -c \
        'bundle config set --local deployment true && bundle config set --local without "development test" &&
         bundle install --jobs 4 --quiet')
    fi
    touch "$release/.stackscripts-ready"
  fi
else
  files=(app-common.rb app-api.rb app-worker.rb)
  release=$home/releases/$(cd "$RS_ATTACH_DIR" && cat "${files[@]}" | sha256sum | cut -c1-12)
  if [[ ! -f $release/.stackscripts-ready ]]; then
    log "installing the attached application in $release"
    rm -rf "$release"
    install -d -o "$user" -g "$user" "$release"
    for file in "${files[@]}"; do install -m 0644 "$RS_ATTACH_DIR/$file" "$release/$file"; done
    touch "$release/.stackscripts-ready"
  fi
fi
ln -sfn "$release" "$home/current"
# The environment of both processes; 0600 because it may hold the database password.
envfile=$home/app.env
(
  umask 077
  {
    printf 'export %s=%q\n' RACK_ENV production ZOOKEEPER_CONNECT 127.0.0.1:2181 \
      KAFKA_BOOTSTRAP_SERVERS 127.0.0.1:9092 REDIS_URL redis://127.0.0.1:6379/0 \
      MARIADB_HOST 127.0.0.1 MARIADB_PORT 3306 MARIADB_DATABASE "${MARIADB_DATABASE:-app}" \
      MARIADB_USER "${MARIADB_USER:-app}" MARIADB_PASSWORD "$db_password" \
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
for app in "api:${APP_API_PORT:-8080}:${APP_API_COMMAND:-ruby app-api.rb}" \
  "worker:${APP_WORKER_PORT:-8081}:${APP_WORKER_COMMAND:-ruby app-worker.rb}"; do
  IFS=: read -r name port command <<<"$app"
  launcher=$home/bin/run-$name
  printf '#!/bin/bash\nset -a\n. %q\nset +a\nexport PORT=%q\ncd %q\nexec %s\n' \
    "$envfile" "$port" "$home/current" "$command" >"$launcher"
  chmod 0755 "$launcher"
  state=$(cat "$launcher" "$envfile" <(readlink "$home/current") | sha256sum | cut -c1-16)
  statefile=$home/.app-$name.state
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
    stop_background "app-$name"
    background "app-$name" "$user" "$home/log/$name.log" env HOME="$home" "$launcher"
  fi
  wait_port 127.0.0.1 "$port" 90 || die "app-$name does not answer on port $port within 90s; $(log_tail "$home/log/$name.log")"
  printf '%s\n' "$state" >"$statefile"
  log "app-$name answers on port $port"
done
