#!/usr/bin/env bash
# The seed's experiment on the local cloud: a private registry server (images built on this machine by
# demo/prepare.sh), then the all-in-one application booted two ways at once, the Docker version (pulling every
# image from the registry) and the script version (the same Debian packages and app code installed by scripts);
# each service proved at its own protocol; the seed's boot-time table with a column for each and a delta; an
# operational script; then everything terminated (decommission scripts recorded). The audit store stays in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ss=${STACKSCRIPTS:-.venv/bin/stackscripts}
export STACKSCRIPTS_DB=${STACKSCRIPTS_DB:-$PWD/out/demo.db}
mkdir -p "$(dirname "$STACKSCRIPTS_DB")"
# Throwaway credentials for this demo; stackscripts masks them everywhere.
STACKSCRIPTS_CRED_REGISTRY_PASSWORD=${STACKSCRIPTS_CRED_REGISTRY_PASSWORD:-$(head -c 18 /dev/urandom | base64)}
STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD=${STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD:-$(head -c 18 /dev/urandom | base64)}
export STACKSCRIPTS_CRED_REGISTRY_PASSWORD STACKSCRIPTS_CRED_MARIADB_ROOT_PASSWORD

servers=(app-docker app-packages registry)
source=$(bash demo/prepare.sh | tail -n 1)
for server in "${servers[@]}" app; do  # leftovers of an interrupted earlier demo
  "$ss" terminate "$server" --quiet >/dev/null 2>&1 || true
done
# The script version fetches StatsD from the npm registry: give it the CAs this machine trusts besides Debian's
# (a TLS-inspecting proxy's), if any.
inputs=(-i "MIRROR_SOURCE=text:$source")
ca=$(cat /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt 2>/dev/null || true)
if [ -n "$ca" ]; then inputs+=(-i "CA_CERTIFICATES=text:$ca"); fi

status=0
"$ss" deploy deployments/seed.yaml "${inputs[@]}" || status=$?
boot_run() {  # the id of a server's last Boot run
  "$ss" runs list --server "$1" --json | python3 -c \
    'import json,sys; print(next(r["id"] for r in json.load(sys.stdin)["data"] if r["phase"] == "Boot"))'
}
if docker_run=$(boot_run app-docker 2>/dev/null) && packages_run=$(boot_run app-packages 2>/dev/null); then
  echo
  echo "The seed's table: the Docker version against the script version (stackscripts report $docker_run $packages_run)"
  "$ss" report "$docker_run" "$packages_run" --html out/seed-report.html || status=$?
  echo "Kafka is a stand-in in both versions: no build of Apache Kafka is in Debian's packages, PyPI or npm" \
    "(demo/images/README.md). Timelines: out/seed-report.html"
fi
if [ "$status" -eq 0 ]; then
  "$ss" run app-docker container-status
fi
"$ss" deployments terminate Seed --quiet || status=$?  # decommission scripts first, app servers before the registry
echo
echo "Boot runs (stackscripts runs list --db $STACKSCRIPTS_DB):"
"$ss" runs list --limit 6
exit "$status"
