#!/bin/bash
# expect-line: 11
# expect: invalid value 'slow'
# expect-hint: text:slow
# ---
# RightScript Name: PV
# Inputs:
#   MODE:
#     Possible Values:
#     - text:fast
#     - slow
# ...
