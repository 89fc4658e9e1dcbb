#!/bin/bash
# stackscripts step wrapper: load the environment from the NUL-separated env file
# (values never pass through shell parsing), remove the file, then run the script in a
# fresh private working directory inside the bundle, so that removing the bundle (which the
# transport always does, even after a timeout or a lost connection) removes it too.
# The bundle, its env file and the working directory are private (0700/0600); the script itself
# runs with umask 022, so the files it creates are 0644 and folders 0755, as on a login shell.
set -u
here=${BASH_SOURCE[0]%/*}
case "$here" in
  /*) ;;  # an absolute path, as the transport runs it: no subshell needed
  "${BASH_SOURCE[0]}") here=$PWD ;;
  *) here=$(cd "$here" && pwd) ;;
esac
if [ -f "$here/env" ]; then
  while IFS= read -r -d '' pair; do export "$pair"; done < "$here/env"
  rm -f "$here/env"
fi
export RS_ATTACH_DIR="$here/attachments"
[ -d "$RS_ATTACH_DIR" ] || mkdir -m 700 "$RS_ATTACH_DIR" || exit 70
[ -d "$here/work" ] || mkdir -m 700 "$here/work" || exit 70
cd "$here/work" || exit 70
umask 022
exec __COMMAND__ </dev/null
