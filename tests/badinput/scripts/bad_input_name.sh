#!/bin/bash
# expect-line: 8
# expect: invalid input name 'DB-HOST'
# expect-hint: environment variable names
# ---
# RightScript Name: Names
# Inputs:
#   DB-HOST:
#     Input Type: single
# ...
