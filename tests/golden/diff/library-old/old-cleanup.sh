#!/bin/bash
# ---
# RightScript Name: Old Cleanup
# Inputs: {}
# ...
rm -rf /var/tmp/app
