#!/usr/bin/env bash
# Install and start everything stackscripts and its tests need on a Debian 12 machine (as root).
# Idempotent: packages already present are not reinstalled, a running dockerd is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

# postgresql: Debian 12's PostgreSQL 15, the team store's tests (.ci/postgres.sh starts it)
# git: the git source and its tests (`git daemon` is in Debian's git package, /usr/lib/git-core/git-daemon)
PACKAGES=(docker.io openssh-server btrfs-progs debootstrap docker-registry apache2-utils shellcheck
          chromium iproute2 iptables procps git make skopeo busybox-static util-linux awscli postgresql)
# Debian's own python3 needs python3-venv for `python3 -m venv` (a pyenv or other python has it).
if ! command -v python3 >/dev/null 2>&1; then
  PACKAGES+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  PACKAGES+=(python3-venv)
fi
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import stackscripts, pytest, moto' 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ] \
   || compgen -G '.venv/lib/python3*/site-packages/__editable___stackscripts_*_finder.py' >/dev/null; then
  # (an older editable install used an import hook, which mypy cannot follow: reinstall as a plain path)
  echo "setup: installing stackscripts and test dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch .venv/.installed
fi

# PostgreSQL 15 (the team store's tests): Debian's cluster 15/main started as the postgres user, and a test role
sh .ci/postgres.sh

# dockerd (no systemd here) and the local cloud's base image (built once, about a minute)
PYTHON="$PWD/.venv/bin/python" bash .ci/dockerd.sh --with-image
