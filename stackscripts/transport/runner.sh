#!/bin/sh
# stackscripts step runner: one per SSH connection, the command of its one channel
# (transport/runner.py starts it and holds the other end). Any POSIX sh (dash and bash are
# tested); head, timeout and rm from coreutils, tar, and bash for the step's run.sh.
# No user value is in this text.
#
# In, on stdin (written by the controller only):
#   "step SIZE SECONDS NAME MARK" then SIZE bytes: a tar whose members are all under
#       stackscripts.NAME/ (the run directory: 0700, unpacked into /tmp under umask 077)
#   "cancel": stop the running step            "done": its outcome arrived (the watchdog ends)
# Out, on stdout and on stderr alike (MARK: 32 hex digits the controller picked for this
# step; it is never in an environment, a command line or a file the step can read):
#   "\036MARK<"      before anything of the step: what came before on that stream is not the step's
#   "\036MARK>RC\n"  after the step ended and its run directory was removed; RC is its exit code
# Each marker is one write of a few bytes (atomic on a pipe): nothing the step or a process
# it left behind writes can split one, and without MARK nothing can forge one.
#
# A step: its run.sh runs under `timeout`, which makes it a process group of its own, stdin
# from /dev/null; meanwhile a watchdog reads stdin: "cancel", or its end (sshd closes it when
# the connection drops), has this shell stop the step's group (SIGTERM; `timeout` sends
# SIGKILL 5 s later). A stopped or timed-out step's group is swept with SIGKILL once `timeout`
# has ended, so nothing of it survives; a step that ended by itself keeps what it started in
# the background (a daemon it launched goes on, its output still on this channel).
# RC: the step's exit code; 124 or 137 when `timeout` stopped it, 143 when stopped, 125 when
# its bundle could not be unpacked (the runner then exits: the rest of it may be unread).
# Unpacking: GNU tar reads the bundle straight from stdin, whole records only (-B, -b 20: the
# controller pads the tar to 10240-byte records), so it stops exactly at its end; any other tar
# reads it from `head -c SIZE`. Per step this starts tar, timeout (which starts bash) and rm
# (and head for a tar that is not GNU's), and forks the watchdog.
# The runner's own messages (a shell's "Terminated", kill's) go to /dev/null: after the connection
# dropped, a write to its stderr would end it with SIGPIPE before it cleaned up. Fd 4 is the
# channel's stderr, for the step, tar and the markers; fd 3 is stdin, for the frames.
umask 077
exec 3<&0 4>&2 2>/dev/null
d='' p='' s='' u='' w='' gnu=''
case $(tar --version </dev/null) in *'GNU tar'*) [ ! -r /dev/stdin ] || gnu=1 ;; esac
unpack() {
  if [ -n "$gnu" ]; then
    tar -x -B -b 20 -m -p -o -f /dev/stdin -C /tmp <&3 2>&4
  else
    head -c "$1" <&3 | tar -x -m -p -o -f - -C /tmp 2>&4
  fi
}
trap 'if [ -n "$d" ]; then rm -rf "$d"; fi' EXIT
trap 's=1; if [ -n "$p" ]; then kill -TERM -"$p" "$p"; fi' HUP INT TERM
while read -r kind size secs name mark <&3; do
  [ "$kind" = step ] || continue  # a "done" or "cancel" that came after its step ended
  case "$size:$secs:$name:$mark" in  # the controller's values only: a number, a decimal, hex, hex
    *[!0-9a-f:.]*|:*|*::*|*:|*[!0-9]*:*:*:*) exit 125 ;;
  esac
  [ -z "$gnu" ] || [ $((size % 10240)) -eq 0 ] || exit 125  # whole records, or tar would wait for more
  s=''
  printf '\036%s<' "$mark"
  printf '\036%s<' "$mark" >&4
  d=/tmp/stackscripts.$name
  if unpack "$size" && cd "$d"; then
    timeout -k 5 "$secs" bash "$d/run.sh" </dev/null 2>&4 3<&- 4>&- &
    p=$!
    cd /
    { while read -r line; do
        case "$line" in cancel) kill -TERM $$ ;; done) exit 0 ;; esac
      done
      kill -TERM $$; } <&3 >/dev/null 4>&- &
    w=$!
    [ -z "$s" ] || kill -TERM -"$p" "$p"
    wait "$p"
    rc=$?
    while [ -n "$s" ] && [ "$rc" -gt 128 ] && kill -0 "$p"; do wait "$p"; rc=$?; done
    g=$p p=''
    case "$s:$rc" in 1:*|*:124|*:137) kill -KILL -"$g" ;; esac
    [ -z "$s" ] || rc=143
  else
    rc=125 u=1
  fi
  rm -rf "$d"
  d=''
  printf '\036%s>%s\n' "$mark" "$rc" >&4
  printf '\036%s>%s\n' "$mark" "$rc"
  [ -z "$u" ] || exit 125  # the rest of its bundle may still be on stdin
  wait "$w"
  w=''
done
