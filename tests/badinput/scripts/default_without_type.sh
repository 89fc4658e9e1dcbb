#!/bin/bash
# expect-line: 10
# expect: invalid value 'foobar'
# expect-hint: text:foobar
# ---
# RightScript Name: Def
# Inputs:
#   NAME:
#     Input Type: single
#     Default: foobar
# ...
