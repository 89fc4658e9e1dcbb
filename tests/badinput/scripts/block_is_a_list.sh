#!/bin/bash
# expect-line: 5
# expect: must be a YAML mapping
# expect-hint: # RightScript Name:
# ---
# - RightScript Name: Listed
# - Inputs: {}
# ...
