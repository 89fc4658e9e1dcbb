#!/bin/bash
# expect-line: 8
# expect: missing 'Inputs'
# expect-hint: Add '# Inputs: {}'
# ---
# RightScript Name: No Inputs
# Description: Forgot the Inputs key.
# ...
