#!/bin/bash
# expect-line: 9
# expect: Possible Values must be a list
# expect-hint: Possible Values: [
# ---
# RightScript Name: PV
# Inputs:
#   MODE:
#     Possible Values: text:fast
# ...
