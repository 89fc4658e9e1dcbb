#!/bin/bash
# expect-line: 7
# expect: UDF tag: unknown attribute 'lable'
# expect-hint: name, label, default
# Linode StackScript
# <UDF name="HOST" label="Host name" />
# <UDF name="DB_PASSWORD" lable="Database password" />
echo "$HOST"
