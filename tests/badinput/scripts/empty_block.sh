#!/bin/bash
# expect-line: 5
# expect: the metadata block is empty
# expect-hint: # RightScript Name:
# ---
# ...
echo nothing
