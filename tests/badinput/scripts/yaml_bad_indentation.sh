#!/bin/bash
# expect-line: 10
# expect: invalid YAML
# expect-hint: indentation
# ---
# RightScript Name: Indent
# Inputs:
#   MODE:
#     Category: x
#    Input Type: single
# ...
