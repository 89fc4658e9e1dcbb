#!/bin/bash
# expect-line: 9
# expect: unknown value type 'secret'
# expect-hint: cred:
# ---
# RightScript Name: Sec
# Inputs:
#   TOKEN:
#     Default: secret:TOKEN
# ...
