#!/bin/sh
# ---
# RightScript Name: Format Ephemeral Drive
# Description: Formats the first ephemeral drive of the instance with btrfs, mounts
#   it on /var/lib/docker and restarts the Docker engine so that images and containers
#   live on the fast local disk instead of the root volume.
# Inputs:
#   EPHEMERAL_DEVICE:
#     Category: Storage
#     Description: Block device of the ephemeral drive; the first one the cloud attaches
#       is /dev/xvdb on most images, /dev/nvme1n1 on newer instance types.
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:/dev/xvdb
# Attachments: []
# ...
mkfs.btrfs -f "$EPHEMERAL_DEVICE"
