#!/bin/bash
# expect-line: 8
# expect: input DB_HOST: its definition must be a mapping
# expect-hint: Indent 'Category:'
# ---
# RightScript Name: Flat
# Inputs:
#   DB_HOST: text:db1
# ...
