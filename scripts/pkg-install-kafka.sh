#!/bin/bash
# ---
# RightScript Name: Packages Install Kafka
# Description: Kafka is not packaged in Debian, so this installs the Apache binary release
#   (checked against its SHA-512) under /opt/kafka with Debian's Java, and runs one
#   broker on port 9092 in ZooKeeper mode against the local zookeeperd.
# Packages: default-jre-headless curl
# Inputs:
#   KAFKA_TARBALL_URL:
#     Category: Kafka
#     Description: URL of the Kafka binary release (.tgz).
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: text:https://archive.apache.org/dist/kafka/3.7.0/kafka_2.13-3.7.0.tgz
#   KAFKA_TARBALL_SHA512:
#     Category: Kafka
#     Description: Expected SHA-512 of the release; unset means the .sha512 file published
#       beside it.
#     Input Type: single
#     Required: false
#     Advanced: true
# Attachments:
# - stackscripts-lib.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
require_root

url=$KAFKA_TARBALL_URL
home=/opt/kafka
apt_install default-jre-headless curl
mkdir -p /var/lib/kafka /var/log/kafka
getent passwd kafka >/dev/null ||
  adduser --system --group --home /var/lib/kafka --no-create-home --disabled-password kafka >/dev/null
chown kafka:kafka /var/lib/kafka /var/log/kafka
install -d /etc/kafka

if [[ $(cat "$home/.stackscripts-url" 2>/dev/null || true) == "$url" ]]; then
  log "Kafka from $url already installed in $home"
else
  log "downloading $url"
  curl -fsSL --retry 3 -o kafka.tgz "$url"
  expected=${KAFKA_TARBALL_SHA512:-}
  if [[ -z $expected ]]; then
    # Apache publishes either sha512sum's "hex  name" or gpg's "name: 1234 ABCD ..." (several lines).
    sums=$(curl -fsSL --retry 3 "$url.sha512") || die "cannot fetch $url.sha512: set KAFKA_TARBALL_SHA512"
    if [[ $sums =~ ^([0-9a-fA-F]{128})[[:space:]] ]]; then
      expected=${BASH_REMATCH[1]}
    else
      expected=$(printf '%s\n' "$sums" | sed 's/^[^:]*://' | tr -d ' \n\t')
    fi
  fi
  actual=$(sha512sum kafka.tgz | cut -d' ' -f1)
  [[ ${expected,,} == "$actual" ]] || die "SHA-512 of $url is $actual, expected ${expected,,}"
  rm -rf "$home.new"
  mkdir -p "$home.new"
  tar -xzf kafka.tgz -C "$home.new" --strip-components 1
  rm -rf "$home"
  mv "$home.new" "$home"
  printf '%s\n' "$url" >"$home/.stackscripts-url"
  log "installed $(basename "$url") in $home"
fi

conf=/etc/kafka/server.properties
cat >"$conf.new" <<'PROPERTIES'
# Written by the stackscripts "Packages Install Kafka" RightScript.
broker.id=0
listeners=PLAINTEXT://0.0.0.0:9092
advertised.listeners=PLAINTEXT://localhost:9092
log.dirs=/var/lib/kafka
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
zookeeper.connect=localhost:2181
PROPERTIES
changed=false
if ! cmp -s "$conf.new" "$conf"; then mv "$conf.new" "$conf"; changed=true; else rm -f "$conf.new"; fi

wait_port 127.0.0.1 2181 60 || die "ZooKeeper does not answer on port 2181: run Packages Install Services first"
if has_systemd; then
  cat >/etc/systemd/system/kafka.service <<UNIT
[Unit]
Description=Apache Kafka broker
After=network.target zookeeper.service
[Service]
User=kafka
Environment=LOG_DIR=/var/log/kafka
ExecStart=$home/bin/kafka-server-start.sh $conf
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable kafka >/dev/null 2>&1
  if [[ $changed == true ]]; then systemctl restart kafka; else systemctl start kafka; fi
else
  if [[ $changed == true ]] && wait_port 127.0.0.1 9092 0; then
    log "configuration changed: stopping Kafka"
    runuser -u kafka -- "$home/bin/kafka-server-stop.sh" || true
    sleep 5
  fi
  if ! wait_port 127.0.0.1 9092 0; then
    log "starting Kafka in the background (log: /var/log/kafka)"
    (cd / && env -i PATH="$safe_path" LOG_DIR=/var/log/kafka \
      runuser -u kafka -- "$home/bin/kafka-server-start.sh" -daemon "$conf" </dev/null >/dev/null 2>&1)
  fi
fi
wait_port 127.0.0.1 9092 90 || die "Kafka does not answer on port 9092 within 90s (see /var/log/kafka/server.log)"
log "Kafka answers on port 9092"
