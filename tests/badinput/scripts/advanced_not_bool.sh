#!/bin/bash
# expect-line: 9
# expect: Advanced must be true or false
# expect-hint: Advanced: false
# ---
# RightScript Name: Adv
# Inputs:
#   HOSTS:
#     Advanced: 1
# ...
