#!/bin/bash
# expect-line: 1
# expect: no RightScript metadata block
# expect-hint: scaffold
echo "$NAME"
