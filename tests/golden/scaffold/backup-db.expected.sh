#!/bin/bash
# ---
# RightScript Name: Backup Db
# Inputs:
#   BACKUP_BUCKET:
#     Category: Uncategorized
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:s3://backups
#   RETENTION_DAYS:
#     Category: Uncategorized
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:7
#   EXTRA_FLAGS:
#     Category: Uncategorized
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: blank
#   DB_NAME:
#     Category: Uncategorized
#     Input Type: single
#     Required: true
#     Advanced: false
# Attachments:
# - pgpass
# - backup.cron
# ...
set -euo pipefail
: "${BACKUP_BUCKET:=s3://backups}"
RETENTION=${RETENTION_DAYS:-7}
EXTRA="${EXTRA_FLAGS:-}"
if [ -n "$EXTRA" ]; then
  TARGET=/var/backups
fi
for FILE in /etc/*.conf; do cp "$FILE" "$TARGET"; done
pg_dump "$DB_NAME" | gzip > "$HOME/db.sql.gz"
aws s3 cp "$HOME/db.sql.gz" "$BACKUP_BUCKET/$(hostname)/" --expected-size "$RETENTION"
install -m 0600 "$RS_ATTACH_DIR/pgpass" "$HOME/.pgpass"
cat "${RS_ATTACH_DIR}/backup.cron" > /etc/cron.d/backup
echo "$PATH $USER" >/dev/null
