#!/bin/bash
# expect-line: 9
# expect: input NAME: Category must be text
# expect-hint: Quote
# ---
# RightScript Name: Cat
# Inputs:
#   NAME:
#     Category: {a: b}
# ...
