#!/usr/bin/env bash
# The flagship scenario on the local cloud: deploy a private registry server and the
# Docker all-in-one app server, print the boot-time table, run an operational script,
# then terminate both (decommission scripts recorded). The audit store stays in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ss=${STACKSCRIPTS:-.venv/bin/stackscripts}
export STACKSCRIPTS_DB=${STACKSCRIPTS_DB:-$PWD/out/demo.db}
mkdir -p "$(dirname "$STACKSCRIPTS_DB")"
# Throwaway credentials for this demo; stackscripts masks them everywhere.
STACKSCRIPTS_CRED_REGISTRY_PASSWORD=${STACKSCRIPTS_CRED_REGISTRY_PASSWORD:-$(head -c 18 /dev/urandom | base64)}
STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD=${STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD:-$(head -c 18 /dev/urandom | base64)}
export STACKSCRIPTS_CRED_REGISTRY_PASSWORD STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD

source=$(bash demo/prepare.sh | tail -n 1)
for server in app registry; do  # leftovers of an interrupted earlier demo
  "$ss" terminate "$server" --quiet >/dev/null 2>&1 || true
done
status=0
"$ss" deploy deployments/demo.yaml -i "MIRROR_SOURCE=text:$source" --report || status=$?
if [ "$status" -eq 0 ]; then
  "$ss" run app container-status
fi
"$ss" terminate app registry --quiet || status=$?
echo
echo "Boot runs (stackscripts runs list --db $STACKSCRIPTS_DB):"
"$ss" runs list --limit 6
exit "$status"
