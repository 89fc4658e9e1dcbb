#!/bin/bash
# ---
# RightScript Name: Check Containers
# Description: Final boot check. Proves that every listed container answers on its port
#   (a TCP connection to the container's address), retrying until a deadline. A name
#   that is not a container is taken as a host name or address.
# Inputs:
#   CHECK_ENDPOINTS:
#     Category: Checks
#     Description: Endpoints to check, each as name:port (container port, not the published
#       one).
#     Input Type: array
#     Required: true
#     Advanced: false
#     Default: array:["text:zookeeper:2181","text:redis:6379","text:kafka:9092","text:mariadb:3306","text:graphite:80","text:app-api:8080","text:app-worker:8081"]
#   CHECK_TIMEOUT:
#     Category: Checks
#     Description: Seconds to wait, in all, for every endpoint to answer.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:120
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"

timeout_s=${CHECK_TIMEOUT:-120}
[[ $timeout_s =~ ^[0-9]+$ ]] || die "CHECK_TIMEOUT must be a number of seconds"
deadline=$((SECONDS + timeout_s))
have_docker=false
if command -v docker >/dev/null && docker_up; then have_docker=true; fi

# address NAME: the container's IP address (127.0.0.1 on the host network), or NAME
# itself when it is not a container. Fails when the container is not running.
address() {
  local state ip
  if [[ $have_docker == false ]] || ! state=$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null); then
    printf '%s\n' "$1"
    return 0
  fi
  [[ $state == running ]] || { printf 'container %s is %s\n' "$1" "$state"; return 1; }
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1")
  ip=${ip%% *}
  printf '%s\n' "${ip:-127.0.0.1}"
}

# shellcheck disable=SC2016
answers() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

checked=0
failed=()
while IFS= read -r item; do
  item=${item//[[:space:]]/}
  [[ -n $item ]] || continue
  name=${item%:*} port=${item##*:}
  if [[ $name == "$item" || -z $name || ! $port =~ ^[0-9]+$ ]]; then
    die "CHECK_ENDPOINTS item '$item' is not name:port"
  fi
  checked=$((checked + 1))
  start=$SECONDS
  while true; do
    if addr=$(address "$name") && answers "$addr" "$port"; then
      log "$name answers on $addr:$port (after $((SECONDS - start))s)"
      break
    fi
    if ((SECONDS >= deadline)); then
      printf 'stackscripts: ERROR: %s does not answer on port %s (%s)\n' "$name" "$port" "$addr" >&2
      if [[ $have_docker == true ]] && docker inspect "$name" >/dev/null 2>&1; then
        docker logs --tail 20 "$name" 2>&1 | sed 's/^/    /' >&2 || true
      fi
      failed+=("$name:$port")
      break
    fi
    sleep 2
  done
done <<<"$CHECK_ENDPOINTS"

((checked > 0)) || die "CHECK_ENDPOINTS lists nothing to check"
((${#failed[@]} == 0)) || die "${#failed[@]} of $checked endpoints do not answer: ${failed[*]}"
log "all $checked endpoints answer"
