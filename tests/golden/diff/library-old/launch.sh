#!/bin/bash
# ---
# RightScript Name: Launch Containers
# Inputs:
#   PORT:
#     Input Type: single
#     Required: true
#     Advanced: false
#   MODE:
#     Input Type: single
#     Required: false
#     Advanced: false
#     Possible Values: ["text:dev", "text:prod"]
# ...
docker run -d -p "$PORT:80" app
