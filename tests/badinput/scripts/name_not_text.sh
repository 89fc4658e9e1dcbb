#!/bin/bash
# expect-line: 6
# expect: 'RightScript Name' must be text
# expect-hint: Quote it
# ---
# RightScript Name: 2024
# Inputs: {}
# ...
