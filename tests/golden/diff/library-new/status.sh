#!/bin/bash
# ---
# RightScript Name: Report Status
# Inputs: {}
# ...
docker ps
