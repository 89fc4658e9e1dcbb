#!/bin/bash
# expect-line: 10
# expect: invalid YAML
# expect-hint: '[' opened at line
# ---
# RightScript Name: Bracket
# Inputs:
#   MODE:
#     Possible Values: ["text:fast", "text:safe"
#     Input Type: single
# ...
