#!/bin/bash
# A script with a metadata error, reached through a template.
# ---
# RightScript Name: Broken
# Inputs:
#   PORT:
#     Input Type: single
#     Default: 80
# ...
echo "$PORT"
