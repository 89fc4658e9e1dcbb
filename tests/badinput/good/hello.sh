#!/bin/bash
# A good script that the bad templates reference.
# ---
# RightScript Name: Hello
# Description: Greets.
# Inputs:
#   GREETING:
#     Category: Demo
#     Input Type: single
#     Required: true
#     Advanced: false
#     Possible Values:
#     - text:hello
#     - text:hi
#   NAMES:
#     Category: Demo
#     Input Type: array
#     Required: false
#     Advanced: false
#     Possible Values: ["text:alice", "text:bob"]
#   DB_PASSWORD:
#     Category: Demo
#     Input Type: single
#     Required: false
#     Advanced: false
# Attachments:
# - motd
# ...
echo "$GREETING $NAMES ${#DB_PASSWORD}"
cat "$RS_ATTACH_DIR/motd"
