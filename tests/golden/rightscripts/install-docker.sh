#!/bin/bash
# ---
# RightScript Name: Install Docker
# Description: Installs the Docker engine from the distribution's packages, enables
#   the service and adds the login users to the docker group so that later steps can
#   use it.
# Packages: curl jq
# Inputs:
#   DOCKER_PACKAGE:
#     Category: Docker
#     Description: Package that provides the engine.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:docker.io
#     Possible Values:
#     - text:docker.io
#     - text:docker-ce
#   DOCKER_USERS:
#     Category: Docker
#     Description: 'Users allowed to run docker: each is added to the docker group.'
#     Input Type: array
#     Required: false
#     Advanced: false
#     Default: array:["text:admin","text:deploy"]
#   REGISTRY_PASSWORD:
#     Category: ""
#     Input Type: single
#     Required: true
#     Advanced: false
#     Default: cred:REGISTRY_PASSWORD
#   DOCKER_OPTS:
#     Category: Docker
#     Description: "yes"
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: blank
# Attachments:
# - daemon.json
# - docker.service.j2
# ...
set -euo pipefail
apt-get install -y "$DOCKER_PACKAGE" $RS_PACKAGES
install -m 0644 "$RS_ATTACH_DIR/daemon.json" /etc/docker/daemon.json
install -m 0644 "$RS_ATTACH_DIR/docker.service" /etc/systemd/system/docker.service
for user in $DOCKER_USERS; do usermod -aG docker "$user"; done
echo "$REGISTRY_PASSWORD" | docker login --password-stdin registry.example.com
echo "DOCKER_OPTS=${DOCKER_OPTS}" > /etc/default/docker
