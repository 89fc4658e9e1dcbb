#!/bin/bash
# expect-line: 9
# expect: invalid attachment name 'conf/app.conf'
# expect-hint: without a path
# ---
# RightScript Name: Pathy
# Inputs: {}
# Attachments:
# - conf/app.conf
# ...
