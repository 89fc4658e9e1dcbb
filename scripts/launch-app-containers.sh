#!/bin/bash
# ---
# RightScript Name: Launch Application Containers
# Description: Runs the two application containers (an API and a worker) on the services'
#   docker network, with their ports published and the service endpoints in their environment
#   (ZOOKEEPER_CONNECT, KAFKA_BOOTSTRAP_SERVERS, REDIS_URL, MARIADB_HOST/PORT/DATABASE/USER/PASSWORD,
#   STATSD_HOST/PORT, GRAPHITE_HOST/PORT, PORT).
# Inputs:
#   IMAGE_REGISTRY:
#     Category: Images
#     Description: Registry (host or host:port) prefixed to image names that do not
#       name a registry themselves. Unset means Docker Hub.
#     Input Type: single
#     Required: false
#     Advanced: false
#   REGISTRY_PORT:
#     Category: Registry
#     Description: Port added to IMAGE_REGISTRY when it has none.
#     Input Type: single
#     Required: false
#     Advanced: true
#   APP_API_IMAGE:
#     Category: Application
#     Description: Image of the API container (app-api).
#     Input Type: single
#     Required: true
#     Advanced: false
#   APP_API_PORT:
#     Category: Application
#     Description: Port the API listens on inside its container, published on the same
#       host port.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8080
#   APP_WORKER_IMAGE:
#     Category: Application
#     Description: Image of the worker container (app-worker).
#     Input Type: single
#     Required: true
#     Advanced: false
#   APP_WORKER_PORT:
#     Category: Application
#     Description: Port of the worker's status endpoint, published on the same host
#       port.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8081
#   APP_ENV:
#     Category: Application
#     Description: Extra KEY=VALUE settings for both containers (not for secrets).
#     Input Type: array
#     Required: false
#     Advanced: true
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
#     Description: Password of MARIADB_USER (passed to the containers from the environment).
#       Unset means the one Launch Service Containers made on this server.
#     Input Type: single
#     Required: false
#     Advanced: false
#   DOCKER_NETWORK:
#     Category: Docker
#     Description: User-defined network joining the service and application containers.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:app-net
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root
docker_up || die "docker is not running: run Install Docker first"

net=${DOCKER_NETWORK:-app-net}
api_port=${APP_API_PORT:-8080}
worker_port=${APP_WORKER_PORT:-8081}
for port in "$api_port" "$worker_port"; do
  if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then die "invalid port '$port'"; fi
done
registry=$(registry_address "${IMAGE_REGISTRY:-}" "${REGISTRY_PORT:-}")
api=$(image_ref "$registry" "$APP_API_IMAGE")
worker=$(image_ref "$registry" "$APP_WORKER_IMAGE")
docker network inspect "$net" >/dev/null 2>&1 || die "network $net is missing: run Launch Service Containers first"

export MARIADB_DATABASE="${MARIADB_DATABASE:-app}" MARIADB_USER="${MARIADB_USER:-app}"
env_args=(
  -e ZOOKEEPER_CONNECT=zookeeper:2181
  -e KAFKA_BOOTSTRAP_SERVERS=kafka:9092
  -e REDIS_URL=redis://redis:6379/0
  -e MARIADB_HOST=mariadb -e MARIADB_PORT=3306
  -e MARIADB_DATABASE -e MARIADB_USER
  -e STATSD_HOST=graphite -e STATSD_PORT=8125
  -e GRAPHITE_HOST=graphite -e GRAPHITE_PORT=2003
)
MARIADB_PASSWORD=$(mariadb_app_password "${MARIADB_PASSWORD:-}") ||
  die "MARIADB_PASSWORD is unset and no password was made on this server: run Launch Service Containers first"
export MARIADB_PASSWORD
env_args+=(-e MARIADB_PASSWORD)
while IFS= read -r setting; do
  [[ -n $setting ]] || continue
  [[ $setting =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "APP_ENV item '${setting%%=*}' is not KEY=VALUE"
  env_args+=(-e "$setting")
done <<<"${APP_ENV:-}"

pull_images true "$api" "$worker"
common=(--network "$net" --label stackscripts.tier=app "${env_args[@]}")
run_container app-api "$api" "${common[@]}" -e "PORT=$api_port" -p "$api_port:$api_port"
run_container app-worker "$worker" "${common[@]}" -e "PORT=$worker_port" -p "$worker_port:$worker_port"

log "application containers on network $net:"
docker ps --filter label=stackscripts.tier=app --format '{{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}' | sed 's|^|  |'
