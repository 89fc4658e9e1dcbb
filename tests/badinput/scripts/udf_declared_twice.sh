#!/bin/bash
# expect-line: 6
# expect: UDF HOST declared twice
# expect-hint: Declare each UDF once
# <UDF name="HOST" label="Host" />
# <UDF name="HOST" label="Host again" />
