#!/usr/bin/env bash
# A deployment's whole life on the local cloud, each command printed before its output (docs/deployments.md
# shows a run of it): a bad reference refused, plan, apply, apply again, drift, an operational script across the
# deployment, a shell, an instance deleted behind the tool's back, servers replaced, terminate. Its own audit store and keys in a temporary folder; nothing is left running.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ss=${STACKSCRIPTS:-$PWD/.venv/bin/stackscripts}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export STACKSCRIPTS_DB="$work/audit.db" STACKSCRIPTS_KEYS_DIR="$work/keys" COLUMNS=${COLUMNS:-110}
cp -r examples/lifecycle "$work/lifecycle"
cd "$work" || exit 2

step() {  # print a command as typed, then run it; stop at the first failure
  printf '\n$ %s\n' "$*" | sed "s|$ss|stackscripts|"
  "$@" || { status=$?; echo "session.sh: '$*' failed (exit $status)" >&2; exit "$status"; }
}
s() { step stackscripts "$@"; }
refused() {  # a command that must fail with exit 2: print it, its message, and go on
  printf '\n$ stackscripts %s\n' "$*"
  "$ss" "$@" 2>&1 && { echo "session.sh: 'stackscripts $*' should have been refused" >&2; exit 1; }
  echo "(exit $?)"
}
stackscripts() { "$ss" "$@"; }

sed 's/env:db:DB_NAME/env:db:DB_NAM/' lifecycle/deployment.yaml > lifecycle/typo.yaml
printf '\n$ sed s/env:db:DB_NAME/env:db:DB_NAM/ lifecycle/deployment.yaml > lifecycle/typo.yaml\n'
refused deploy lifecycle/typo.yaml
s deploy lifecycle/deployment.yaml --plan
s deploy lifecycle/deployment.yaml --quiet
s deploy lifecycle/deployment.yaml
s servers list --deployment lifecycle
web_boot=$("$ss" runs list --server web --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
printf '\n$ stackscripts runs show %s --json   # the step'"'"'s inputs: each env: reference and what it gave\n' "$web_boot"
"$ss" runs show "$web_boot" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["data"]["steps"][0]["inputs"], indent=2))'
sed -i 's/DB_NAME: text:shop/DB_NAME: text:store/' lifecycle/deployment.yaml
printf '\n$ sed -i s/text:shop/text:store/ lifecycle/deployment.yaml\n'
s deploy lifecycle/deployment.yaml --plan
s fleet run disk-usage --deployment lifecycle --quiet
s ssh web -- cat /etc/demo-web/env
step docker rm -f db
s deploy lifecycle/deployment.yaml --plan
refused deploy lifecycle/deployment.yaml
s deploy lifecycle/deployment.yaml --replace db --replace web --quiet
s deployments show lifecycle
s deployments terminate lifecycle
s deployments list
