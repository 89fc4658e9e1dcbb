#!/bin/bash
# stackscripts cloud-init runner (render/cloudinit_runner.sh; render/cloudinit_files.py appends the
# steps). cloud-init writes the files beside it (write_files) and runs it once from runcmd, as root:
#  - each step's bundle is in steps/NN-stem/; a file written once for several steps is in blobs/ and
#    copied into the bundle when its step begins (`share`);
#  - `cred NAME CRED` fetches a cred: input on the instance (SSM Parameter Store or Secrets Manager,
#    through the instance's role) into the step's private env file: byte-exact, never shell text;
#  - each attempt runs a fresh copy of the bundle under `timeout` (the step's Timeout, 0 = none);
#    a failed attempt is retried Retries times, after a pause of 1, 2, 4... up to 30 seconds;
#  - output goes to $log/NN-stem.stdout and .stderr, a line per step to steps.tsv, and a line per step
#    start and end to stdout, which cloud-init copies to /var/log/cloud-init-output.log (the console);
#  - the first failing step stops the sequence (state: stranded) after printing the tail of its
#    output, its secrets masked; on any exit every bundle, so every env file, is removed.
# Comment lines are left out of the user-data (cloudinit_files.py): keep `#` text on code lines short.
set -u
umask 077
root=$(cd "${BASH_SOURCE[0]%/*}" && pwd) || exit 70
log=${STACKSCRIPTS_LOG_DIR:-/var/log/stackscripts}
total=__TOTAL__
creds_from=__CREDS_FROM__
creds_prefix=__CREDS_PREFIX__
tail_lines=20
n=0 dir='' name='' started='' prep=0 pid=

say() { printf 'stackscripts: %s\n' "$*"; }
note() { say "$@" | tee -a "$log/$dir.stderr"; }  # the console and the step's stderr log
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
cleanup() { rm -rf "$root/steps" "$root/blobs" "$root/attempt"; }
stopped() {
  [ -z "$pid" ] || kill -TERM -"$pid" 2>/dev/null
  say "stopped by a signal during step $n/$total ($name)"
  echo stranded > "$log/state"
  exit 143
}
trap cleanup EXIT
trap stopped HUP INT TERM

chmod -R go= "$root" && mkdir -p "$log" && chmod 700 "$log" || exit 70  # write_files made 0755 folders
printf 'step\tname\tstarted\tended\texit_code\n' > "$log/steps.tsv"
echo booting > "$log/state"
say "boot sequence: $total steps; output in $log"

begin() {  # begin N DIR NAME
  n=$1 dir=$2 name=$3 prep=0 started=$(now)
  : > "$log/$dir.stdout" && : > "$log/$dir.stderr" || prep=70
  say "step $n/$total $name: started"
}

share() {  # share REL MODE SHA256: a file shipped once (blobs/SHA256) copied into this step's bundle
  [ "$prep" -eq 0 ] || return 0
  local to="$root/steps/$dir/$1"
  { [ -d "${to%/*}" ] || mkdir -m 700 "${to%/*}"; } && install -m "$2" "$root/blobs/$3" "$to" || prep=70
}

aws_region() {  # the aws CLI needs a region: the instance's own, from the metadata service (IMDSv2)
  [ -z "${AWS_DEFAULT_REGION:-}" ] || return 0
  if [ -n "${AWS_REGION:-}" ]; then export AWS_DEFAULT_REGION=$AWS_REGION; return 0; fi
  local token
  token=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    http://169.254.169.254/latest/api/token) || return 0
  AWS_DEFAULT_REGION=$(curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/placement/region) && export AWS_DEFAULT_REGION
}

cred() {  # cred NAME CRED: append NAME=<the credential's value> to this step's env file
  [ "$prep" -eq 0 ] || return 0
  local out="$root/steps/$dir/.cred" rc=0
  local -a endpoint=()
  if ! command -v aws >/dev/null 2>&1; then
    note "$1: cred:$2 is fetched on the instance with the aws CLI, which is not installed"
    prep=127
    return 0
  fi
  aws_region
  [ -z "${AWS_ENDPOINT_URL:-}" ] || endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
  case $creds_from in
    ssm) aws ${endpoint[@]+"${endpoint[@]}"} ssm get-parameter --name "$creds_prefix$2" --with-decryption \
           --query Parameter.Value --output text ;;
    secretsmanager) aws ${endpoint[@]+"${endpoint[@]}"} secretsmanager get-secret-value \
           --secret-id "$creds_prefix$2" --query SecretString --output text ;;
    *) false ;;
  esac > "$out" 2>> "$log/$dir.stderr" || rc=$?
  if [ "$rc" -ne 0 ]; then
    note "$1: could not fetch cred:$2 ($creds_from $creds_prefix$2, aws exit code $rc)"
    rm -f "$out"
    prep=$rc
    return 0
  fi
  if [ -s "$out" ]; then truncate -s -1 "$out"; fi  # the aws CLI ends its text output with one newline
  { printf '%s=' "$1" && cat "$out" && printf '\0'; } >> "$root/steps/$dir/env" || prep=70
  rm -f "$out"
}

mask() (  # mask [NAME...]: stdin to stdout with each named input's value, and each line of 4+
  # characters of a multi-line one, replaced by ******** (values reach awk by the environment)
  i=0
  if [ $# -gt 0 ] && [ -f "$root/steps/$dir/env" ]; then
    while IFS= read -r -d '' pair; do
      for want in "$@"; do
        case $pair in "$want="*) i=$((i + 1)); export "STACKSCRIPTS_MASK_$i=${pair#*=}" ;; esac
      done
    done < "$root/steps/$dir/env"
  fi
  STACKSCRIPTS_MASKS=$i awk '
    BEGIN {
      for (i = 1; i <= ENVIRON["STACKSCRIPTS_MASKS"] + 0; i++) {
        v = ENVIRON["STACKSCRIPTS_MASK_" i]
        if (index(v, "\n") == 0) { if (v != "") s[++k] = v; continue }
        m = split(v, part, "\n")
        for (j = 1; j <= m; j++) if (length(part[j]) >= 4) s[++k] = part[j]
      }
      for (i = 2; i <= k; i++)  # longest first
        for (j = i; j > 1 && length(s[j]) > length(s[j - 1]); j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
    }
    {
      line = $0
      for (i = 1; i <= k; i++) {
        out = ""
        while ((p = index(line, s[i])) > 0) { out = out substr(line, 1, p - 1) "********"; line = substr(line, p + length(s[i])) }
        line = out line
      }
      print line
    }'
)

show_tail() {  # show_tail STREAM [NAME...]: the last lines of the step's output, secrets masked
  local file="$log/$dir.$1" stream=$1
  shift
  [ -s "$file" ] || return 0
  say "step $n/$total $name: last $tail_lines lines of $stream:"
  tail -n "$tail_lines" "$file" | mask "$@" | sed 's/^/  | /'
}

why() {  # why RC TIMEOUT ATTEMPT_START
  case $1 in
    124|137)
      if [ "$2" != 0 ] && awk -v a="$3" -v b="$(now)" -v l="$2" 'BEGIN { exit !(b - a >= l) }'; then
        printf 'timed out after %ss, exit code %s' "$2" "$1"
        return 0
      fi ;;
  esac
  printf 'exit code %s' "$1"
}

run() {  # run TIMEOUT RETRIES [SECRET_NAME...]: the step's attempts; a failure stops the sequence
  local limit=$1 retries=$2 attempt=0 rc=$prep t0 reason='' pause
  local work="$root/attempt"
  shift 2
  if [ "$prep" -ne 0 ]; then reason="exit code $rc, before the step ran"; fi
  while [ "$prep" -eq 0 ]; do
    attempt=$((attempt + 1))
    t0=$(now)
    if ! { rm -rf "$work" && cp -a "$root/steps/$dir" "$work"; }; then rc=70 reason="exit code 70"; break; fi
    timeout -k 5 "$limit" bash "$work/run.sh" >> "$log/$dir.stdout" 2>> "$log/$dir.stderr" &
    pid=$!
    wait "$pid" 2>/dev/null  # no "Killed" job notice on the console
    rc=$?
    case $rc in 124|137) kill -KILL -"$pid" 2>/dev/null ;; esac  # what the step left in its group
    pid=
    rm -rf "$work"
    reason=$(why "$rc" "$limit" "$t0")
    if [ "$rc" -eq 0 ] || [ "$attempt" -gt "$retries" ]; then break; fi
    pause=$((1 << (attempt - 1)))  # 1, 2, 4... up to 30 s, as over SSH (executor.retry_pause)
    [ "$pause" -le 30 ] || pause=30
    note "step $n/$total $name: attempt $attempt failed ($reason); retrying in ${pause}s (attempt $((attempt + 1)) of $((retries + 1)))"
    sleep "$pause"
  done
  printf '%s\t%s\t%s\t%s\t%s\n' "$dir" "$name" "$started" "$(now)" "$rc" >> "$log/steps.tsv"
  if [ "$rc" -eq 0 ]; then
    say "step $n/$total $name: done, exit code 0 ($(since "$started")s)"
    rm -rf "$root/steps/$dir"
    return 0
  fi
  say "step $n/$total $name: FAILED, $reason ($(since "$started")s)"
  show_tail stdout "$@"
  show_tail stderr "$@"
  echo stranded > "$log/state"
  say "stranded at step $n/$total ($name): the later steps did not run; output in $log"
  exit "$rc"
}

__STEPS__
echo operational > "$log/state"
say "operational: all $total steps done"
