#!/bin/bash
# ---
# RightScript Name: Check Services
# Description: Proves each service of the all-in-one server (Docker or package version) at its protocol
#   on 127.0.0.1, retrying until CHECK_TIMEOUT. A failure names the service and why, with its last log lines.
# Inputs:
#   CHECK_TIMEOUT:
#     Category: Checks
#     Description: Seconds to wait, in all, for every service to answer.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:180
#   APP_API_PORT:
#     Category: Application
#     Description: Port of the API.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8080
#   APP_WORKER_PORT:
#     Category: Application
#     Description: Port of the worker's status endpoint.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8081
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
#     Description: Password of MARIADB_USER (to the client in MYSQL_PWD). Unset means the one
#       made on this server.
#     Input Type: single
#     Required: false
#     Advanced: false
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"

t=${CHECK_TIMEOUT:-180}
[[ $t =~ ^[0-9]+$ ]] || die "CHECK_TIMEOUT must be a number of seconds"
user=${MARIADB_USER:-app} h=127.0.0.1 end=$((SECONDS + t)) n=n$(date +%s)$RANDOM id='' failed=()
pw=$(mariadb_app_password "${MARIADB_PASSWORD:-}") || die "MARIADB_PASSWORD is unset and this server made none"
apt_install jq curl
docker=false
if command -v docker >/dev/null && docker_up; then docker=true; fi
err=$(mktemp)
trap 'rm -f "$err"*' EXIT

# show_logs SERVICE: its container's state and log (Docker version), else the end of its log file.
declare -A logs=([zookeeper]="zookeeper zookeeper/zookeeper" [redis]="redis redis/redis-server" [mariadb]="mariadb mysql/error"
  [kafka]="kafka kafka-standin" [graphite-web]="graphite graphite/gunicorn" [carbon]="graphite carbon/console"
  [statsd]="graphite statsd" [app-api]="app-api ../../srv/app/log/api" [app-worker]="app-worker ../../srv/app/log/worker")
show_logs() {
  local c f s
  read -r c f <<<"${logs[$1]}"
  f=/var/log/$f.log
  if [[ $docker == true ]] && s=$(docker inspect -f '{{.State.Status}} (exit code {{.State.ExitCode}})' "$c" 2>/dev/null); then
    echo "    container $c is $s; its last log lines:"
    docker logs --tail 15 "$c" 2>&1
  else
    echo "    the end of $(realpath -m "$f"):"
    tail -n 15 "$f" 2>&1
  fi | sed '2,$s/^/      /' >&2
}
lasterr() { tail -n 1 "$err" | sed 's/^[_a-z]*: //; s/^line [0-9]*: //'; }
# tcp PORT [BYTES]: send stdin to PORT, print the answer (or its first BYTES).
# shellcheck disable=SC2016
tcp() { timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat >&3 && head -c "${3:-1M}" <&3' _ $h "$@" 2>>"$err"; }
# graphite TARGET [TEST]: graphite-web renders TARGET as JSON (with a point passing the jq TEST).
graphite() {
  local o test=true
  [[ -z ${2:-} ]] || test="any(.[].datapoints[]; $2)"
  o=$(curl -fsS --max-time 10 "http://$h/render?target=$1&from=-15min&format=json" 2>>"$err") ||
    { why="GET /render on port 80: $(lasterr)"; return 1; }
  jq -e "type == \"array\" and $test" <<<"$o" >/dev/null 2>&1 ||
    { why="${3:-GET /render answered ${o:0:99}}"; return 1; }
}
send() {
  printf 'check.carbon.%s 42 %s\n' "$n" "$(date +%s)" | tcp 2003 >/dev/null || true
  # shellcheck disable=SC2016
  timeout 5 bash -c 'printf %s "$1" >/dev/udp/127.0.0.1/8125' _ "check.statsd.$n:42|g" 2>/dev/null || true
}

# Probes: 0 with `ok` set, or 1 with `why` set.
p_zookeeper() {
  local a
  a=$(printf ruok | tcp 2181) || { why="no connection to $h:2181 ($(lasterr))"; return 1; }
  [[ $a == imok ]] || { why="ruok answered '$a', not imok"; return 1; }
  a=$(printf srvr | tcp 2181 | grep -o -e 'Zookeeper version: [^,-]*' -e 'Mode: [a-z]*' | paste -sd ,) ||
    { why="srvr answered no version and mode"; return 1; }
  ok="ruok -> imok; srvr -> ${a/,/, }"
}
p_redis() {
  local a
  a=$(printf 'PING\r\n' | tcp 6379 7 | tr -d '\r\n') || { why="no connection to $h:6379 ($(lasterr))"; return 1; }
  [[ $a == +PONG ]] || { why="PING answered '$a', not +PONG"; return 1; }
  ok="PING -> PONG"
}
p_mariadb() {
  local o cli=(mariadb)
  if ! command -v mariadb >/dev/null; then  # Docker version: the mariadb image's client, on the published port
    o=$(docker inspect -f '{{.Config.Image}}' mariadb 2>/dev/null) || { why="no mariadb client or container"; return 1; }
    cli=(docker run --rm --network host -e MYSQL_PWD --entrypoint mariadb "$o")
  fi
  o=$(MYSQL_PWD=$pw "${cli[@]}" --protocol=TCP -h $h -u "$user" --connect-timeout=5 -BNe 'SELECT 1, VERSION()' \
    "${MARIADB_DATABASE:-app}" 2>&1) || true
  [[ $o == 1$'\t'* ]] || { why="SELECT 1 as $user: ${o##*$'\n'}"; return 1; }
  ok="SELECT 1 as $user@$h:3306 -> 1 (MariaDB ${o#1$'\t'})"
}
p_kafka() {
  local a
  # ApiVersions v0 with correlation id 7: a broker answers with that id and error code 0.
  printf '\0\0\0\x0f\0\x12\0\0\0\0\0\x07\0\x05check' | tcp 9092 64 >"$err.k" || true
  a=$(tr -cd '[:print:]' <"$err.k")
  if [[ $(od -An -v -tx1 -j4 -N6 "$err.k" | tr -d ' ') == 000000070000 ]]; then
    ok="ApiVersions -> correlation id 7, error code 0"
  elif [[ $a == stand-in* ]]; then
    ok="STAND-IN, not Apache Kafka: port 9092 answers '$a' (no Kafka protocol checked)"
  else
    why="ApiVersions answered '$a' ($(lasterr))"
    return 1
  fi
}
p_api() {
  local o u=http://$h:${APP_API_PORT:-8080}/items
  if ! o=$(curl -fsS --max-time 10 -d "{\"name\":\"check-$n\"}" "$u" 2>>"$err") || ! id=$(jq -er .id <<<"$o"); then
    why="POST $u: $(lasterr)"
    return 1
  fi
  o=$(curl -fsS --max-time 10 "$u/$id" 2>>"$err") || { why="GET $u/$id: $(lasterr)"; return 1; }
  jq -e --arg n "check-$n" '.mariadb.name == $n and .redis.name == $n' <<<"$o" >/dev/null ||
    { why="GET $u/$id answered ${o:0:200}"; return 1; }
  ok="POST /items -> id $id; GET /items/$id -> name check-$n from MariaDB and from Redis"
}
p_worker() {
  local o u=http://$h:${APP_WORKER_PORT:-8081}
  [[ -n $id ]] || { why="no item to wait for (the API check failed)"; return 1; }
  o=$(curl -fsS --max-time 10 "$u/items/$id" 2>>"$err") || { why="item $id not processed: $(lasterr)"; return 1; }
  ok="processed item $id at $(jq -r .processed_at <<<"$o"); status $(curl -fsS --max-time 10 "$u/status" 2>>"$err")"
}
p_graphite_web() { graphite 'carbon.agents.*' && ok="GET /render?target=carbon.agents.*&format=json -> HTTP 200, JSON"; }
p_carbon() {
  send
  graphite "check.carbon.$n" '.[0] == 42' "check.carbon.$n 42 (sent to TCP 2003) is not in graphite" &&
    ok="check.carbon.$n 42 sent to TCP 2003, read back over graphite-web's render API"
}
p_statsd() {
  send
  graphite "stats.gauges.check.statsd.$n" '.[0] == 42' "check.statsd.$n:42|g (sent to UDP 8125) is not in graphite" &&
    ok="check.statsd.$n:42|g sent to UDP 8125, read back as stats.gauges.check.statsd.$n"
}

log "checking each service at its protocol on $h (deadline ${t}s)"
send
for c in zookeeper redis mariadb kafka app-api:p_api app-worker:p_worker graphite-web carbon statsd; do
  s=$SECONDS name=${c%%:*} probe=p_${c//-/_}
  [[ $c == *:* ]] && probe=${c#*:}
  while why='' ok='' && ! $probe; do
    if ((SECONDS >= end)); then
      echo "stackscripts: ERROR: $name: $(tr -d '\r' <<<"$why") (gave up after $((SECONDS - s))s)" >&2
      show_logs "$name"
      [[ " ${failed[*]} " == *" $name "* ]] || failed+=("$name")
      continue 2
    fi
    sleep 2
  done
  log "$name: $ok (after $((SECONDS - s))s)"
done
((${#failed[@]} == 0)) || die "${#failed[@]} of 9 services failed their check: ${failed[*]}"
log "all 9 services answer at their protocol"
