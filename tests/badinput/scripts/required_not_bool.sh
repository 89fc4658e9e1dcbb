#!/bin/bash
# expect-line: 10
# expect: Required must be true or false
# expect-hint: Required: true
# ---
# RightScript Name: Req
# Inputs:
#   HOSTS:
#     Input Type: single
#     Required: sometimes
# ...
