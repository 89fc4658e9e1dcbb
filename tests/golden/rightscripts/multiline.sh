#!/bin/bash
# ---
# RightScript Name: Multi-line Descriptions
# Description: |
#   Prepares the host.
#
#   Runs before every other step; safe to run twice.
# Inputs:
#   MODE:
#     Category: Host
#     Description: |-
#       fast: skip the package upgrade
#       full: upgrade everything
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:fast
#     Possible Values:
#     - text:fast
#     - text:full
# Attachments:
# - motd
# ...
true
