#!/bin/bash
# ---
# RightScript Name: Packages Install Services
# Description: Installs, configures and starts ZooKeeper (zookeeperd, with the headless Java runtime only),
#   Redis (redis-server) and MariaDB (mariadb-server) from Debian's packages, on localhost, set up like the
#   demo's zookeeper, redis and mariadb images (the same zookeeper-setup.sh and mariadb-setup.sh), and
#   creates the application's database and user. Kafka, Graphite and StatsD have their own scripts.
# Packages: zookeeperd default-jre-headless redis-server mariadb-server
# Inputs:
#   MARIADB_ROOT_PASSWORD:
#     Category: Database
#     Description: Password of MariaDB's root user (root also keeps unix-socket login).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:MARIADB_ROOT_PASSWORD
#   MARIADB_DATABASE:
#     Category: Database
#     Description: Database created for the applications.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_USER:
#     Category: Database
#     Description: Application user with all rights on MARIADB_DATABASE.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_PASSWORD:
#     Category: Database
#     Description: Password of MARIADB_USER. Unset means one made on this server (kept 0600 in
#       /var/lib/stackscripts).
#     Input Type: single
#     Required: false
#     Advanced: false
# Attachments:
# - stackscripts-lib.sh
# - services-lib.sh
# - zookeeper-setup.sh
# - mariadb-setup.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
# shellcheck source-path=SCRIPTDIR source=attachments/services-lib.sh
source "$RS_ATTACH_DIR/services-lib.sh"
require_root

[[ -n ${MARIADB_ROOT_PASSWORD:-} ]] || die "MARIADB_ROOT_PASSWORD is empty"
MARIADB_PASSWORD=$(mariadb_app_password "${MARIADB_PASSWORD:-}" create)
export MARIADB_ROOT_PASSWORD MARIADB_PASSWORD MARIADB_DATABASE=${MARIADB_DATABASE:-app} MARIADB_USER=${MARIADB_USER:-app}
setup=$RS_ATTACH_DIR

# zookeeper depends on default-jre (GTK, Mesa, LLVM): a stub satisfies it with the headless runtime.
packages=(redis-server mariadb-server)
if ! dpkg -s zookeeperd >/dev/null 2>&1; then
  apt-get update -qq
  packages+=("$(bash "$setup/zookeeper-setup.sh" jre-stub "$PWD")" zookeeperd)
fi
# Services are started below, the same way with or without systemd.
apt_install_nostart "${packages[@]}"

bash "$setup/zookeeper-setup.sh" configure | sed 's/^/stackscripts: /'
# Like the redis image: append-only persistence.
sed -i 's/^appendonly no/appendonly yes/' /etc/redis/redis.conf
# MariaDB's log in a file (no syslog daemon here), for the checks to show.
printf '[mysqld]\nlog_error = /var/log/mysql/error.log\n' >/etc/mysql/mariadb.conf.d/60-stackscripts.cnf
install -d -o mysql -g adm /var/log/mysql

# service name, port, log: start each service unless it already answers.
for entry in zookeeper:2181:/var/log/zookeeper/zookeeper.log redis-server:6379:/var/log/redis/redis-server.log \
  mariadb:3306:/var/log/mysql/error.log; do
  IFS=: read -r name port logfile <<<"$entry"
  if wait_port 127.0.0.1 "$port" 0; then
    log "$name already answers on port $port"
    continue
  fi
  log "starting $name"
  start_service "$name" start || die "could not start $name"
  if has_systemd; then systemctl enable "$name" >/dev/null 2>&1 || true; fi
  wait_port 127.0.0.1 "$port" 90 ||
    die "$name does not answer on port $port within 90s; $(log_tail "$logfile")"
  log "$name answers on port $port"
done

# The SQL travels on stdin, as root over the unix socket (root keeps that login, so a second run works).
log "configuring MariaDB: root password, database $MARIADB_DATABASE, user $MARIADB_USER"
bash "$setup/mariadb-setup.sh" sql localhost 127.0.0.1 | mariadb --user=root --batch || die "configuring MariaDB failed"
log "zookeeper $(dpkg-query -W zookeeper | cut -f2), redis $(redis-server --version | grep -o 'v=[0-9.]*'), $(mariadb --version | grep -o 'Distrib [^,]*')"
