#!/bin/bash
# ---
# RightScript Name: Goodbye
# Description: A decommission script - says which server is going and when.
# Inputs: {}
# ...
set -euo pipefail
echo "$(hostname) decommissioned at $(date -u +%H:%M:%S.%N)"
