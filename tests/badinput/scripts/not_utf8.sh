#!/bin/bash
# expect-line: 9
# expect: the script is not UTF-8 text
# expect-hint: Save it as UTF-8
# ---
# RightScript Name: Latin
# Inputs: {}
# ...
echo "café"
