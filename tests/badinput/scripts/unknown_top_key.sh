#!/bin/bash
# expect-line: 8
# expect: unknown metadata key 'Colour'
# expect-hint: Allowed keys: RightScript Name
# ---
# RightScript Name: Paint
# Inputs: {}
# Colour: red
# ...
echo paint
