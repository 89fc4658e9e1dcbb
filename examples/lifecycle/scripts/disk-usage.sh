#!/bin/bash
# ---
# RightScript Name: Disk Usage
# Description: An operational script - prints how full the root file system is; fails above LIMIT percent.
# Inputs:
#   LIMIT:
#     Input Type: single
#     Category: Operations
#     Description: The percentage of the root file system above which this fails.
#     Default: text:95
#     Required: false
# ...
set -euo pipefail
used=$(df --output=pcent / | tail -n 1 | tr -dc '0-9')
echo "$(hostname): / is ${used}% full (limit ${LIMIT:-95}%)"
[ "$used" -le "${LIMIT:-95}" ]
