#!/bin/bash
# The mariadb image's entrypoint: on first start (an empty /var/lib/mysql) create the system tables and apply
# mariadb-setup.sh's SQL (root password, database, user from any host) on a server without networking; then
# run `mariadbd [OPTION...]` in the foreground on all addresses, logging to stderr. Other commands run as is.
set -euo pipefail
log() { printf 'mariadb-entrypoint: %s\n' "$*" >&2; }
if [[ ${1:-mariadbd} != mariadbd ]]; then exec "$@"; fi
(($#)) && shift
install -d -o mysql -g mysql /run/mysqld
chown mysql:mysql /var/lib/mysql
if [[ ! -d /var/lib/mysql/mysql ]]; then
  [[ -n ${MARIADB_ROOT_PASSWORD:-} ]] || { log "MARIADB_ROOT_PASSWORD is empty: cannot initialise the database"; exit 1; }
  log "initialising /var/lib/mysql"
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=socket \
    >/dev/null
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket=/run/mysqld/mysqld.sock ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { log "mariadbd exited during initialisation"; exit 1; }
    sleep 0.5
  done
  mariadb-setup.sh sql '%' localhost | mariadb --socket=/run/mysqld/mysqld.sock --user=root
  mariadb-admin --socket=/run/mysqld/mysqld.sock shutdown
  wait "$pid" || true
  log "database ${MARIADB_DATABASE:-app} ready${MARIADB_PASSWORD:+, user ${MARIADB_USER:-app}}"
fi
exec mariadbd --user=mysql --bind-address=0.0.0.0 --skip-name-resolve "$@"
