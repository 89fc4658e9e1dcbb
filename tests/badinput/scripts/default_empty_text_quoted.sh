#!/bin/bash
# expect-line: 9
# expect: 'text:' with nothing after it
# expect-hint: Write blank
# ---
# RightScript Name: Def
# Inputs:
#   NAME:
#     Default: "text:"
# ...
