#!/bin/bash
# stackscripts step wrapper: load the environment from the NUL-separated env file
# (values never pass through shell parsing), remove the file, then run the script
# in a fresh private working directory inside the bundle, so that removing the bundle
# (which the transport always does, even after a timeout or a lost connection) removes it too.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/env" ]; then
  while IFS= read -r -d '' pair; do export "$pair"; done < "$here/env"
  rm -f "$here/env"
fi
export RS_ATTACH_DIR="$here/attachments"
mkdir -p -m 700 "$RS_ATTACH_DIR"
work=$(mktemp -d "$here/work.XXXXXX") || exit 70
chmod 700 "$work"
cd "$work" || exit 70
__COMMAND__ </dev/null
rc=$?
cd / && rm -rf "$work"
exit "$rc"
