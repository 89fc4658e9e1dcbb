#!/bin/bash
# ---
# RightScript Name: Install Docker
# Description: Installs the Docker engine.
# Inputs:
#   DOCKER_PACKAGE:
#     Category: Docker
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:docker.io
# Attachments:
# - daemon.json
# ...
apt-get install -y "$DOCKER_PACKAGE"
install -m 0644 "$RS_ATTACH_DIR/daemon.json" /etc/docker/daemon.json
