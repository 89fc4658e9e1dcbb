#!/bin/bash
# expect-line: 9
# expect: duplicate key 'Inputs' (first at line
# expect-hint: Keep one
# ---
# RightScript Name: Twice
# Inputs: {}
# Description: between
# Inputs:
#   NAME:
# ...
