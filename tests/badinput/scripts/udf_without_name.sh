#!/bin/bash
# expect-line: 5
# expect: UDF tag without a name
# expect-hint: name="MY_INPUT"
# <UDF label="Nameless" default="x" />
