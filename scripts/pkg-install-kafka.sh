#!/bin/bash
# ---
# RightScript Name: Packages Install Kafka (Stand-in)
# Description: A STAND-IN for Apache Kafka, as in the Docker version, since no build of Kafka can be had from the
#   package registries this demo reaches (Debian packages only Kafka clients; PyPI and npm hold clients;
#   Kafka's releases come from apache.org and Maven Central). Runs the same kafka-standin.sh as the demo's
#   kafka image, with Debian's busybox-static, answering TCP on port 9092 with one line (no Kafka protocol).
# Packages: busybox-static
# Inputs: {}
# Attachments:
# - stackscripts-lib.sh
# - services-lib.sh
# - kafka-standin.sh
# ...

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=attachments/stackscripts-lib.sh
source "$RS_ATTACH_DIR/stackscripts-lib.sh"
# shellcheck source-path=SCRIPTDIR source=attachments/services-lib.sh
source "$RS_ATTACH_DIR/services-lib.sh"
require_root

apt_install busybox-static
install -d /usr/local/lib/stackscripts
changed=false
if ! cmp -s "$RS_ATTACH_DIR/kafka-standin.sh" /usr/local/lib/stackscripts/kafka-standin.sh; then
  install -m 0755 "$RS_ATTACH_DIR/kafka-standin.sh" /usr/local/lib/stackscripts/kafka-standin.sh
  changed=true
fi
if [[ $changed == true ]]; then stop_background kafka-standin; fi
if ! wait_port 127.0.0.1 9092 0; then
  log "starting the Kafka stand-in (log: /var/log/kafka-standin.log)"
  background kafka-standin nobody /var/log/kafka-standin.log /bin/busybox sh /usr/local/lib/stackscripts/kafka-standin.sh
fi
wait_port 127.0.0.1 9092 30 || die "the Kafka stand-in does not answer on port 9092; $(log_tail /var/log/kafka-standin.log)"
log "Kafka STAND-IN (not Apache Kafka) answers on port 9092"
