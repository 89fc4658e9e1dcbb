#!/bin/bash
# expect-line: 5
# expect: missing 'RightScript Name'
# expect-hint: Add '# RightScript Name: Install Docker'
# ---
# Description: No name here.
# Inputs: {}
# ...
