#!/bin/bash
# mariadb-setup.sh: the SQL that sets MariaDB up for the application, the same in the mariadb image's first
# start (demo/images/mariadb) and in Packages Install Services. Reads MARIADB_ROOT_PASSWORD, MARIADB_DATABASE
# (app), MARIADB_USER (app) and MARIADB_PASSWORD from the environment and prints SQL for a root client on
# the server's unix socket (secrets travel on that pipe, never on a command line):
#   mariadb-setup.sh sql HOST...  root keeps unix-socket login and gets the password too; the database;
#                                 when MARIADB_PASSWORD is set, the user, from each HOST ('%' for any),
#                                 with all rights on the database
set -euo pipefail

fail() { printf 'mariadb-setup: ERROR: %s\n' "$*" >&2; exit 1; }
# quote VALUE: VALUE as an SQL string literal.
quote() {
  local s=${1//\\/\\\\}
  s=${s//\'/\\\'}
  printf "'%s'" "$s"
}

sql() {
  local db=${MARIADB_DATABASE:-app} user=${MARIADB_USER:-app} host
  [[ $db =~ ^[A-Za-z0-9_]+$ ]] || fail "MARIADB_DATABASE may only hold letters, digits and _"
  [[ -n ${MARIADB_ROOT_PASSWORD:-} ]] || fail "MARIADB_ROOT_PASSWORD is empty"
  (($#)) || fail "name at least one host the user connects from"
  printf 'ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(%s);\n' \
    "$(quote "$MARIADB_ROOT_PASSWORD")"
  # shellcheck disable=SC2016 # backquotes are SQL here
  printf 'CREATE DATABASE IF NOT EXISTS `%s`;\n' "$db"
  [[ -n ${MARIADB_PASSWORD:-} ]] || set --
  for host in "$@"; do
    printf 'CREATE USER IF NOT EXISTS %s@%s;\n' "$(quote "$user")" "$(quote "$host")"
    printf 'ALTER USER %s@%s IDENTIFIED BY %s;\n' "$(quote "$user")" "$(quote "$host")" "$(quote "$MARIADB_PASSWORD")"
    # shellcheck disable=SC2016
    printf 'GRANT ALL PRIVILEGES ON `%s`.* TO %s@%s;\n' "$db" "$(quote "$user")" "$(quote "$host")"
  done
  printf 'FLUSH PRIVILEGES;\n'
}

case ${1:-} in
  sql) shift; sql "$@" ;;
  *) fail "usage: mariadb-setup.sh sql HOST..." ;;
esac
