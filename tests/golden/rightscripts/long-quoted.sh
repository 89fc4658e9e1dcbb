#!/bin/bash
# ---
# RightScript Name: Long Quoted Text
# Description: '*Note*: formats the ephemeral drive, mounts it on /var/lib/docker and
#   restarts the engine; anything on that drive is lost.'
# Inputs:
#   DEVICE:
#     Category: Storage
#     Description: 'Target: the block device of the first ephemeral drive, which is
#       /dev/xvdb on most images and /dev/nvme1n1 on newer instance types.'
#     Input Type: single
#     Required: false
#     Advanced: true
#     Default: text:/dev/xvdb
#   ENDPOINTS:
#     Category: Checks
#     Input Type: array
#     Required: true
#     Advanced: false
#     Default: array:["text:zookeeper:2181","text:redis:6379","text:kafka:9092","text:mariadb:3306","text:graphite:80"]
# Attachments: []
# ...
mkfs.btrfs -f "$DEVICE"
