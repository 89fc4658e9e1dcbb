#!/bin/bash
# ---
# RightScript Name: Launch Containers
# Inputs:
#   PORT:
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:8080
# ...
docker run -d -p "$PORT:80" app
