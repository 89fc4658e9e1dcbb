#!/bin/bash
# expect-line: 7
# expect: 'Packages' must be a list of package names
# expect-hint: # Packages: curl jq
# ---
# RightScript Name: Pkgs
# Packages: {curl: latest}
# Inputs: {}
# ...
