#!/bin/busybox sh
# shellcheck shell=dash
# kafka-standin.sh: a STAND-IN for Apache Kafka, the same in the kafka image (demo/images/kafka) and in
# Packages Install Kafka (Stand-in). No build of Apache Kafka can be had from the package registries this
# demo reaches (Debian's packages, PyPI, npm), so this only answers TCP connections on port 9092 (and on
# each port in $STANDIN_PORTS) with a line saying it is a stand-in; it speaks no Kafka protocol.
# Arguments are accepted and ignored. Runs with busybox's nc (Debian's busybox-static).
set -u
ports=${STANDIN_PORTS:-9092}
name=${STANDIN_NAME:-kafka}
for port in $ports; do
  busybox nc -ll -p "$port" -e busybox echo "stand-in $name: not Apache Kafka" &
done
echo "stand-in $name (not Apache Kafka) listening on: $ports"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
