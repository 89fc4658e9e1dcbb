#!/bin/bash
# expect-line: 9
# expect: invalid YAML
# expect-hint: tabs
# ---
# RightScript Name: Tabs
# Inputs:
#   NAME:
#   	Category: Tabs
# ...
