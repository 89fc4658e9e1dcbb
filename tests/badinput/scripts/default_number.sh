#!/bin/bash
# expect-line: 9
# expect: value 8080 is a YAML number
# expect-hint: "text:8080"
# ---
# RightScript Name: Port
# Inputs:
#   PORT:
#     Default: 8080
# ...
