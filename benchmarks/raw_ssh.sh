#!/bin/bash
# The floor, timed as one process: raw OpenSSH driven by a shell, every host at once.
#   bash benchmarks/raw_ssh.sh mux|one SPEC_DIR CONTROL_DIR
# SPEC_DIR/hosts: "i port user host key" per line. mux: a ControlMaster per host (ssh -MNf), then one
# `ssh host "$(line n of cmds/i)" < steps/stepN.sh` per step. one: all steps in one `ssh host 'bash -s' < one/i.sh`.
# Output goes to /dev/null (it still crosses the wire); exit 1 if any host failed.
set -u
mode=$1 spec=$2 control=$3
opts=(-F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no
      -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10)

host_mux() {
    local i=$1 port=$2 user=$3 host=$4 key=$5 n=0 cmd
    local path="ControlPath=$control/$i"
    ssh "${opts[@]}" -i "$key" -p "$port" -MNf -o "$path" -o ControlMaster=yes -o ControlPersist=60 \
        "$user@$host" || return 1
    while IFS= read -r cmd; do
        n=$((n + 1))
        ssh "${opts[@]}" -i "$key" -p "$port" -o "$path" -o ControlMaster=no "$user@$host" "$cmd" \
            < "$spec/steps/step$n.sh" > /dev/null || { echo "host $i step $n failed" >&2; return 1; }
    done < "$spec/cmds/$i"
}

host_one() {
    local i=$1 port=$2 user=$3 host=$4 key=$5
    ssh "${opts[@]}" -i "$key" -p "$port" "$user@$host" "bash -s" < "$spec/one/$i.sh" > /dev/null \
        || { echo "host $i failed" >&2; return 1; }
}

case $mode in
    mux | one) ;;
    *) echo "usage: raw_ssh.sh mux|one SPEC_DIR CONTROL_DIR" >&2; exit 2 ;;
esac
pids=()
while read -r i port user host key; do
    if [ "$mode" = mux ]; then
        host_mux "$i" "$port" "$user" "$host" "$key" &
    else
        host_one "$i" "$port" "$user" "$host" "$key" &
    fi
    pids+=("$!")
done < "$spec/hosts"
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
exit "$status"
