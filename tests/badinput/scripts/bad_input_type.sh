#!/bin/bash
# expect-line: 9
# expect: invalid Input Type 'list'
# expect-hint: Input Type: array
# ---
# RightScript Name: Typed
# Inputs:
#   HOSTS:
#     Input Type: list
# ...
