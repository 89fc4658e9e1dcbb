#!/bin/bash
# expect-line: 11
# expect: input COLOR: unknown key 'Requried'
# expect-hint: Did you mean 'Required'?
# ---
# RightScript Name: Paint
# Inputs:
#   COLOR:
#     Category: Paint
#     Input Type: single
#     Requried: true
# ...
echo "$COLOR"
