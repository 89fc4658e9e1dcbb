#!/bin/bash
# expect-line: 11
# expect: duplicate attachment 'app.conf'
# expect-hint: List each attachment once
# ---
# RightScript Name: Dup
# Inputs: {}
# Attachments:
# - app.conf
# - motd
# - app.conf
# ...
