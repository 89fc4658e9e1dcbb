#!/bin/bash
# ---
# RightScript Name: Web Setup
# Description: Points the web server at the database server it was given.
# Inputs:
#   DB_HOST:
#     Input Type: single
#     Category: Database
#     Description: The database server's address (env:db:PRIVATE_IP in the deployment).
#     Required: true
#   DB_NAME:
#     Input Type: single
#     Category: Database
#     Description: The database to use (env:db:DB_NAME in the deployment).
#     Required: true
# ...
set -euo pipefail
mkdir -p /etc/demo-web
printf 'DATABASE_URL=demo://%s/%s\n' "$DB_HOST" "$DB_NAME" > /etc/demo-web/env
echo "web configured: $(cat /etc/demo-web/env)"
