#!/bin/bash
# expect-line: 9
# expect: invalid YAML
# expect-hint: 'text:' with nothing after it
# ---
# RightScript Name: Def
# Inputs:
#   NAME:
#     Default: text:
# ...
