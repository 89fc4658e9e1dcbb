#!/bin/bash
# expect-line: 7
# expect: invalid YAML: mapping values are not allowed
# expect-hint: must be quoted
# ---
# RightScript Name: Colon
# Description: Note: this breaks YAML
# Inputs: {}
# ...
