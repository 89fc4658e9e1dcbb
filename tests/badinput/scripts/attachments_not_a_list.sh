#!/bin/bash
# expect-line: 8
# expect: 'Attachments' must be a list of file names
# expect-hint: # - file.conf
# ---
# RightScript Name: One Attachment
# Inputs: {}
# Attachments: app.conf
# ...
