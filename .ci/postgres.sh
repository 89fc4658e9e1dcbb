#!/bin/sh
# Start Debian's PostgreSQL 15 for the team store's tests, and the role they log in as (idempotent; no systemd).
#
# The cluster is Debian's own 15/main, started with pg_ctlcluster, which runs the server as the postgres user
# (PostgreSQL refuses to run as root). The tests log in over TCP on 127.0.0.1 as the superuser role
# stackscripts_test with a password (scram-sha-256, Debian's pg_hba.conf default for 127.0.0.1), read by libpq
# from a pgpass file: one line host:port:*:stackscripts_test:PASSWORD, which tests/support/postgres.py reads to
# know where the server is. The password is made once per machine and never printed.
# Log: /var/log/postgresql/postgresql-15-main.log; wait: 60 s (PGSETUP_TIMEOUT overrides).
set -eu
PASSFILE="${STACKSCRIPTS_TEST_PGPASS:-/var/lib/stackscripts-test/pgpass}"
ROLE=stackscripts_test
TIMEOUT="${PGSETUP_TIMEOUT:-60}"

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "postgresql: not installed (apt-get install -y postgresql)" >&2
    exit 1
fi
if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main" { found = 1 } END { exit !found }'; then
    echo "postgresql: creating the cluster 15/main"
    pg_createcluster 15 main >/dev/null
fi
port=$(pg_lsclusters -h | awk '$1 == "15" && $2 == "main" { print $3 }')
if pg_lsclusters -h | awk '$1 == "15" && $2 == "main" && $4 ~ /online/ { found = 1 } END { exit !found }'; then
    echo "postgresql: already running on port $port"
else
    echo "postgresql: starting the cluster 15/main on port $port"
    pg_ctlcluster 15 main start
fi
waited=0
until pg_isready -q -h 127.0.0.1 -p "$port"; do
    waited=$((waited + 1))
    if [ "$waited" -gt "$TIMEOUT" ]; then
        echo "postgresql: not ready after ${TIMEOUT}s (see /var/log/postgresql/postgresql-15-main.log)" >&2
        exit 1
    fi
    sleep 1
done

mkdir -p "$(dirname "$PASSFILE")"
chmod 700 "$(dirname "$PASSFILE")"
if [ ! -s "$PASSFILE" ] || ! grep -q "^127.0.0.1:$port:\*:$ROLE:" "$PASSFILE"; then
    password=$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
    umask 077
    printf '127.0.0.1:%s:*:%s:%s\n' "$port" "$ROLE" "$password" >"$PASSFILE.new"
    mv "$PASSFILE.new" "$PASSFILE"
fi
chmod 600 "$PASSFILE"
password=$(cut -d: -f5 "$PASSFILE")
# The password travels on psql's stdin as a variable, never on a command line; synchronous_commit off for this role
# only: the tests check what is stored, not that it survives a power cut, and each test makes its own database.
runuser -u postgres -- psql -q -X -v ON_ERROR_STOP=1 -v role="$ROLE" -v password="$password" -d postgres <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN SUPERUSER PASSWORD %L', :'role', :'password') \gexec
SELECT format('ALTER ROLE %I SET synchronous_commit = off', :'role') \gexec
SQL
echo "postgresql: role $ROLE ready (password in $PASSFILE)"
