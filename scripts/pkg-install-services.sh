#!/bin/bash
# ---
# RightScript Name: Packages Install Services
# Description: Installs and starts ZooKeeper (zookeeperd), Redis (redis-server) and
#   MariaDB (mariadb-server) from Debian's packages, listening on localhost, and creates
#   the application database. Kafka, Graphite and StatsD have their own scripts.
# Packages: zookeeperd redis-server mariadb-server
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
#     Description: Application user with all rights on MARIADB_DATABASE (only when MARIADB_PASSWORD
#       is set).
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_PASSWORD:
#     Category: Database
#     Description: Password of MARIADB_USER. Unset means no application user.
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

db=${MARIADB_DATABASE:-app}
db_user=${MARIADB_USER:-app}
[[ $db =~ ^[A-Za-z0-9_]+$ ]] || die "MARIADB_DATABASE may only hold letters, digits and _"
[[ -n ${MARIADB_ROOT_PASSWORD:-} ]] || die "MARIADB_ROOT_PASSWORD is empty"

# Services are started below, the same way with or without systemd.
apt_install_nostart zookeeperd redis-server mariadb-server netcat-openbsd

# service name, port: start each service unless it already answers.
for entry in zookeeper:2181 redis-server:6379 mariadb:3306; do
  name=${entry%:*} port=${entry#*:}
  if wait_port 127.0.0.1 "$port" 0; then
    log "$name already answers on port $port"
    continue
  fi
  log "starting $name"
  start_service "$name" start || die "could not start $name"
  if has_systemd; then systemctl enable "$name" >/dev/null 2>&1 || true; fi
  wait_port 127.0.0.1 "$port" 90 || die "$name does not answer on port $port within 90s"
  log "$name answers on port $port"
done

# The SQL travels on stdin; root keeps unix-socket login so that a second run works.
# shellcheck disable=SC2016
log "configuring MariaDB: root password, database $db${MARIADB_PASSWORD:+, user $db_user}"
{
  printf 'ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(%s);\n' \
    "$(sql_string "$MARIADB_ROOT_PASSWORD")"
  printf "CREATE DATABASE IF NOT EXISTS \`%s\`;\n" "$db"
  if [[ -n ${MARIADB_PASSWORD:-} ]]; then
    for host in localhost 127.0.0.1; do
      printf 'CREATE USER IF NOT EXISTS %s@%s;\n' "$(sql_string "$db_user")" "$(sql_string "$host")"
      printf 'ALTER USER %s@%s IDENTIFIED BY %s;\n' "$(sql_string "$db_user")" "$(sql_string "$host")" \
        "$(sql_string "$MARIADB_PASSWORD")"
      printf "GRANT ALL PRIVILEGES ON \`%s\`.* TO %s@%s;\n" "$db" "$(sql_string "$db_user")" "$(sql_string "$host")"
    done
  fi
  printf 'FLUSH PRIVILEGES;\n'
} | mariadb --user=root --batch || die "configuring MariaDB failed"

log "zookeeper: $(printf 'srvr\n' | nc -q1 127.0.0.1 2181 | head -n1 || true)"
log "redis: $(redis-cli -h 127.0.0.1 ping)"
log "mariadb: $(mariadb --user=root --batch --skip-column-names -e 'SELECT VERSION()')"
