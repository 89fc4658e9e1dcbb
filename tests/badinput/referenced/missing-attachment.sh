#!/bin/bash
# Valid metadata, but an attachment file that does not exist (used by a template case).
# ---
# RightScript Name: Needs Attachment
# Inputs: {}
# Attachments:
# - present.conf
# - absent.conf
# ...
cat "$RS_ATTACH_DIR/present.conf" "$RS_ATTACH_DIR/absent.conf"
