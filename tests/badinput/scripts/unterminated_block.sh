#!/bin/bash
# expect-line: 5
# expect: unterminated RightScript metadata block
# expect-hint: Close the block opened here with a line '# ...'
# ---
# RightScript Name: Open Ended
# Inputs: {}
echo "the block never closed"
