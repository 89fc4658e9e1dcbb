#!/bin/bash
# expect-line: 7
# expect: 'Inputs' must be a mapping of input names
# expect-hint: # Inputs: {}
# ---
# RightScript Name: Flat
# Inputs: DB_HOST
# ...
