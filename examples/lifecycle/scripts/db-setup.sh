#!/bin/bash
# ---
# RightScript Name: DB Setup
# Description: Pretends to be a database server - writes its name and listens nowhere; enough to show a
#   deployment's life.
# Inputs:
#   DB_NAME:
#     Input Type: single
#     Category: Database
#     Description: The database the application uses.
#     Default: text:app
#     Required: true
# ...
set -euo pipefail
mkdir -p /var/lib/demo-db
echo "$DB_NAME" > /var/lib/demo-db/name
echo "database $DB_NAME ready on $(hostname)"
