#!/bin/bash
# ---
# RightScript Name: Launch Service Containers
# Description: Pulls the ZooKeeper, Redis, Kafka, MariaDB and graphite-statsd images
#   (in parallel by default) and runs them on one user-defined docker network with named
#   volumes, published ports and restart policy unless-stopped. Kafka runs in KRaft
#   mode (the official image has no ZooKeeper mode); ZooKeeper serves the apps. The
#   defaults are the public images; the demo's are built from Debian's packages
#   (demo/images), with a stand-in for Kafka.
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
#   ZOOKEEPER_IMAGE:
#     Category: Images
#     Description: ZooKeeper image.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:zookeeper:3.9
#   REDIS_IMAGE:
#     Category: Images
#     Description: Redis image.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:redis:7
#   KAFKA_IMAGE:
#     Category: Images
#     Description: Kafka image (configured for the apache/kafka image's KAFKA_* variables).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:apache/kafka:3.7.0
#   MARIADB_IMAGE:
#     Category: Images
#     Description: MariaDB image.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:mariadb:11
#   GRAPHITE_IMAGE:
#     Category: Images
#     Description: Graphite and StatsD image.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:graphiteapp/graphite-statsd:1.1.10-5
#   MARIADB_ROOT_PASSWORD:
#     Category: Database
#     Description: MariaDB root password, set when the data volume is first initialized.
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:MARIADB_ROOT_PASSWORD
#   MARIADB_DATABASE:
#     Category: Database
#     Description: Database created when the data volume is first initialized.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_USER:
#     Category: Database
#     Description: Application user created with all rights on MARIADB_DATABASE when
#       the data volume is first initialized.
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:app
#   MARIADB_PASSWORD:
#     Category: Database
#     Description: Password of MARIADB_USER, e.g. cred:MARIADB_APP_PASSWORD. Unset means
#       one made on this server (kept 0600 in /var/lib/stackscripts).
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
#   PUBLISH_ADDRESS:
#     Category: Docker
#     Description: Host address the service ports are published on. 0.0.0.0 exposes
#       them to the network; containers on DOCKER_NETWORK reach them by name anyway.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:127.0.0.1
#   PULL_PARALLEL:
#     Category: Images
#     Description: Pull the images in parallel (true) or one after another (false, to
#       measure the difference).
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:true
#     Possible Values:
#     - text:true
#     - text:false
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root
docker_up || die "docker is not running: run Install Docker first"

[[ -n ${MARIADB_ROOT_PASSWORD:-} ]] || die "MARIADB_ROOT_PASSWORD is empty"
# Secrets reach the containers through `-e NAME` (taken from this environment),
# never as a value on a command line.
export MARIADB_ROOT_PASSWORD MARIADB_DATABASE="${MARIADB_DATABASE:-app}" MARIADB_USER="${MARIADB_USER:-app}"
MARIADB_PASSWORD=$(mariadb_app_password "${MARIADB_PASSWORD:-}" create)
export MARIADB_PASSWORD
net=${DOCKER_NETWORK:-app-net}
addr=${PUBLISH_ADDRESS:-127.0.0.1}
registry=$(registry_address "${IMAGE_REGISTRY:-}" "${REGISTRY_PORT:-}")

zookeeper=$(image_ref "$registry" "$ZOOKEEPER_IMAGE")
redis=$(image_ref "$registry" "$REDIS_IMAGE")
kafka=$(image_ref "$registry" "$KAFKA_IMAGE")
mariadb=$(image_ref "$registry" "$MARIADB_IMAGE")
graphite=$(image_ref "$registry" "$GRAPHITE_IMAGE")

pull_images "${PULL_PARALLEL:-true}" "$zookeeper" "$redis" "$kafka" "$mariadb" "$graphite"
ensure_network "$net"
common=(--network "$net" --label stackscripts.tier=service)

run_container zookeeper "$zookeeper" "${common[@]}" -p "$addr:2181:2181" \
  -v zookeeper-data:/data -v zookeeper-datalog:/datalog \
  -e ZOO_4LW_COMMANDS_WHITELIST=ruok,srvr,stat

run_container redis "$redis" "${common[@]}" -p "$addr:6379:6379" \
  -v redis-data:/data -- redis-server --appendonly yes

run_container mariadb "$mariadb" "${common[@]}" -p "$addr:3306:3306" \
  -v mariadb-data:/var/lib/mysql -e MARIADB_ROOT_PASSWORD -e MARIADB_DATABASE \
  -e MARIADB_USER -e MARIADB_PASSWORD

# Single-node KRaft broker+controller; clients on $net use kafka:9092.
run_container kafka "$kafka" "${common[@]}" -p "$addr:9092:9092" \
  -v kafka-data:/var/lib/kafka/data \
  -e KAFKA_NODE_ID=1 -e KAFKA_PROCESS_ROLES=broker,controller \
  -e CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk \
  -e KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093 \
  -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka:9092 \
  -e KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER \
  -e KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT \
  -e KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093 \
  -e KAFKA_LOG_DIRS=/var/lib/kafka/data \
  -e KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1 \
  -e KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1 \
  -e KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1

run_container graphite "$graphite" "${common[@]}" -p "$addr:80:80" \
  -p "$addr:2003:2003" -p "$addr:2004:2004" -p "$addr:8125:8125/udp" -p "$addr:8126:8126" \
  -v graphite-conf:/opt/graphite/conf -v graphite-storage:/opt/graphite/storage \
  -v statsd-config:/opt/statsd/config

log "service containers on network $net:"
docker ps --filter label=stackscripts.tier=service --format '{{.Names}}\t{{.Image}}\t{{.Status}}' | sed 's|^|  |'
