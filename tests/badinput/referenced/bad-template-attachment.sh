#!/bin/bash
# A valid script whose jinja2 attachment has a syntax error (found when rendering).
# ---
# RightScript Name: Bad J2
# Inputs:
#   GREETING:
#     Input Type: single
#     Default: text:hi
# Attachments:
# - motd.j2
# ...
cat "$RS_ATTACH_DIR/motd"
