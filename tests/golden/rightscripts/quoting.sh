#!/bin/bash
# ---
# RightScript Name: Quoting Edges
# Description: "y"
# Inputs:
#   FLAG:
#     Category: "off"
#     Description: "yes"
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:on
#     Possible Values:
#     - text:on
#     - text:off
#   RATIO:
#     Category: "1.0"
#     Description: "1e3"
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:0.5
#   WHEN:
#     Category: "2024-06-01"
#     Description: "null"
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: blank
#   MERGE:
#     Category: <<
#     Description: "~"
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: ignore
#   ODD:
#     Category: =
#     Description: '- starts like a list item'
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:*
#   SPACES:
#     Category: '@team'
#     Description: 'trailing space '
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: 'text:a #b'
#   TABS:
#     Category: '{braces}'
#     Description: "a\tb"
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:it's
#   UNICODE:
#     Category: grüße ✓
#     Description: '`backtick` and %percent'
#     Input Type: single
#     Required: false
#     Advanced: false
#     Default: text:日本
# Attachments: []
# ...
echo "$FLAG $RATIO $WHEN"
