#!/bin/bash
# ---
# RightScript Name: Install Docker
# Description: Installs the Docker engine, and logs in to a registry.
# Inputs:
#   DOCKER_PACKAGE:
#     Category: Docker
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:docker-ce
#     Possible Values: ["text:docker.io", "text:docker-ce"]
#   REGISTRY:
#     Category: Docker
#     Input Type: single
#     Required: true
#     Advanced: false
# Attachments:
# - daemon.json
# - registry.conf
# ...
apt-get install -y "$DOCKER_PACKAGE"
install -m 0644 "$RS_ATTACH_DIR/daemon.json" /etc/docker/daemon.json
docker login "$REGISTRY"
