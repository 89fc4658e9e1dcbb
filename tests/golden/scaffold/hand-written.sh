#!/bin/bash
# ---
# RightScript Name: Configure Web
# Inputs:
#     WEB_PORT:
#         Required: false
#         Default: text:8080
#         Input Type: single
#         Category: Web
#         Possible Values:
#             - text:80
#             - text:8080
#     SITE_NAME:
#         Description: The site's name, as visitors see it.
#         Category: Web
# Attachments:
#     - site.conf.j2
# Description: |
#   Writes the nginx site and reloads nginx.
#   Keeps the default site out of the way.
# Packages: nginx
# ...
set -euo pipefail
: "${WEB_PORT:=8080}"
install -m 0644 "$RS_ATTACH_DIR/site.conf" "/etc/nginx/sites-available/$SITE_NAME"
install -m 0644 "$RS_ATTACH_DIR/robots.txt" "/var/www/$SITE_NAME/robots.txt"
ln -sf "/etc/nginx/sites-available/$SITE_NAME" /etc/nginx/sites-enabled/
echo "reloading for ${TLS_MODE:-off} on $(hostname) as $USER from ${SSH_CONNECTION%% *}"
nginx -t && systemctl reload nginx
