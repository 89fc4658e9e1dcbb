#!/bin/bash
# expect-line: 5
# expect: unterminated RightScript metadata block
# expect-hint: before the first line that is not a '#' comment
# ---
# RightScript Name: Mixed
// Inputs: {}
# ...
