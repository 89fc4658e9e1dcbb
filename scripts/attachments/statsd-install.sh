#!/bin/bash
# statsd-install.sh: StatsD from the npm registry, run by Debian's nodejs, the same way in the graphite
# image (demo/images/graphite) and in Packages Install StatsD. The package tarballs are pinned by the
# sha512 integrity the registry publishes for them, so the same bytes run in both versions.
#   statsd-install.sh fetch DIR        download the tarballs into DIR (kept when already there and intact)
#   statsd-install.sh install DEST DIR unpack them into DEST (statsd with its node_modules) and write
#                                      /etc/statsd/config.js from statsd-config.js beside this script
#   statsd-install.sh run DEST         run StatsD in the foreground (UDP 8125, admin TCP 8126)
# NPM_REGISTRY overrides https://registry.npmjs.org.
set -euo pipefail

# name version integrity: statsd and its one runtime dependency (its optional ones are left out).
packages=(
  "statsd 0.9.0 sha512-DwQDAZ3osm5ZaQshq7Z/C8nxpqWjj7NVBmHkxZLta9lDOYelPZ8vR976OU1TCHRgGA1bSBuB6glOw9cFkxlyzA=="
  "generic-pool 2.2.0 sha512-mPcLSdb8iADPF5Fy5M7AcFQ07QDxhAbz0KvzUIXVhJBYi8ELRHWXweJ8XTy6lyjh9b3nndSsTeOo3ElOOu2FsA=="
)
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
here=$(cd "$(dirname "$0")" && pwd)

fail() { printf 'statsd-install: ERROR: %s\n' "$*" >&2; exit 1; }

# intact FILE INTEGRITY: FILE's sha512 is the one of the npm integrity string "sha512-BASE64".
intact() {
  local want have
  want=$(printf '%s' "${2#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
  have=$(sha512sum "$1" | cut -d' ' -f1)
  [[ -n $want && $want == "$have" ]]
}

fetch() {
  local dir=$1 entry name version integrity file
  mkdir -p "$dir"
  for entry in "${packages[@]}"; do
    read -r name version integrity <<<"$entry"
    file=$dir/$name-$version.tgz
    if [[ -f $file ]] && intact "$file" "$integrity"; then continue; fi
    curl -fsSL --retry 3 -o "$file.part" "$registry/$name/-/$name-$version.tgz" ||
      fail "cannot download $name@$version from $registry (is the npm registry reachable? a TLS-inspecting proxy's CA missing?)"
    intact "$file.part" "$integrity" || { rm -f "$file.part"; fail "$name-$version.tgz from $registry does not match its pinned sha512"; }
    mv "$file.part" "$file"
    printf 'statsd-install: fetched %s@%s from %s\n' "$name" "$version" "$registry"
  done
}

install_to() {
  local dest=$1 dir=$2 entry name version integrity file target
  fetch "$dir"
  rm -rf "$dest.new"
  for entry in "${packages[@]}"; do
    read -r name version integrity <<<"$entry"
    file=$dir/$name-$version.tgz
    intact "$file" "$integrity" || fail "$file does not match its pinned sha512"
    target=$dest.new
    [[ $name == statsd ]] || target=$dest.new/node_modules/$name
    mkdir -p "$target"
    tar -xzf "$file" -C "$target" --strip-components 1 --no-same-owner
  done
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  install -d -m 0755 /etc/statsd
  install -m 0644 "$here/statsd-config.js" /etc/statsd/config.js
  read -r name version _ <<<"${packages[0]}"
  printf 'statsd-install: %s %s in %s, configuration /etc/statsd/config.js\n' "$name" "$version" "$dest"
}

case ${1:-} in
  fetch) fetch "${2:?statsd-install.sh fetch DIR}" ;;
  install) install_to "${2:?statsd-install.sh install DEST DIR}" "${3:?statsd-install.sh install DEST DIR}" ;;
  run) exec node "${2:?statsd-install.sh run DEST}/stats.js" /etc/statsd/config.js ;;
  *) fail "usage: statsd-install.sh fetch DIR | install DEST DIR | run DEST" ;;
esac
