#!/bin/bash
# expect-line: 7
# expect: 'Description' must be text
# expect-hint: Quote
# ---
# RightScript Name: Desc
# Description: [a, b]
# Inputs: {}
# ...
