#!/bin/bash
# zookeeper-setup.sh: ZooKeeper from Debian's zookeeperd, set up the same way in the zookeeper image
# (demo/images/zookeeper) and in Packages Install Services.
#   zookeeper-setup.sh jre-stub DIR  build a stub "default-jre" package that only depends on
#                                    default-jre-headless, in DIR, and print its path: Debian's zookeeper
#                                    depends on default-jre, whose GTK, Mesa and LLVM (~300 MB) a server never uses
#   zookeeper-setup.sh configure     standalone settings: data in ZOOKEEPER_DATA_DIR (/var/lib/zookeeper),
#                                    the four-letter words srvr, ruok, stat and mntr, no admin server (it
#                                    would take port 8080, the API's), a heap of ZOOKEEPER_HEAP (256m)
#   zookeeper-setup.sh run           the server in the foreground as the zookeeper user, logging to stdout
set -euo pipefail

conf=/etc/zookeeper/conf
data=${ZOOKEEPER_DATA_DIR:-/var/lib/zookeeper}
heap=${ZOOKEEPER_HEAP:-256m}
fail() { printf 'zookeeper-setup: ERROR: %s\n' "$*" >&2; exit 1; }

jre_stub() {
  local dir=$1 version root
  version=$(apt-cache show --no-all-versions default-jre 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
  [[ -n $version ]] || fail "apt knows no default-jre package (run apt-get update first)"
  root=$(mktemp -d)
  mkdir -p "$root/DEBIAN" "$dir"
  cat >"$root/DEBIAN/control" <<CONTROL
Package: default-jre
Version: $version+stackscripts1
Architecture: all
Maintainer: stackscripts <root@localhost>
Depends: default-jre-headless
Section: java
Priority: optional
Description: headless stand-in for default-jre (stackscripts)
 Satisfies packages that depend on default-jre with the headless runtime only.
CONTROL
  dpkg-deb --root-owner-group -b "$root" "$dir/default-jre-stub.deb" >/dev/null
  rm -rf "$root"
  printf '%s\n' "$dir/default-jre-stub.deb"
}

configure() {
  [[ -d $conf ]] || fail "$conf is missing: install zookeeperd first"
  cat >"$conf/zoo.cfg" <<CFG
# Written by zookeeper-setup.sh (stackscripts): one standalone server.
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$data
clientPort=2181
4lw.commands.whitelist=srvr,ruok,stat,mntr
admin.enableServer=false
CFG
  # Debian's myid (also linked from /var/lib/zookeeper) holds a placeholder that ZooKeeper refuses.
  printf '1\n' >"$conf/myid"
  sed -i "s|^JAVA_OPTS=.*|JAVA_OPTS=\"-Xms32m -Xmx$heap -XX:+UseSerialGC\"|" "$conf/environment"
  grep -q '^JAVA_OPTS=' "$conf/environment" || printf 'JAVA_OPTS="-Xms32m -Xmx%s -XX:+UseSerialGC"\n' "$heap" >>"$conf/environment"
  # Debian's classpath has no SLF4J binding, so ZooKeeper would log nothing: bind it to log4j.
  sed -i 's|^CLASSPATH=.*|CLASSPATH="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"|' \
    "$conf/environment"
  install -d -o zookeeper -g zookeeper "$data" /var/log/zookeeper
  printf 'zookeeper-setup: standalone on port 2181, data in %s, heap %s\n' "$data" "$heap"
}

run() {
  # shellcheck source=/dev/null
  . "$conf/environment"
  install -d -o zookeeper -g zookeeper "$data"
  chown -R zookeeper:zookeeper "$data"
  # shellcheck disable=SC2086 # JAVA_OPTS holds several options
  exec setpriv --reuid=zookeeper --regid=zookeeper --init-groups "$JAVA" -cp "$CLASSPATH" $JAVA_OPTS \
    -Dzookeeper.log.dir=/var/log/zookeeper -Dzookeeper.root.logger=INFO,CONSOLE "$ZOOMAIN" "$ZOOCFG"
}

case ${1:-} in
  jre-stub) jre_stub "${2:?zookeeper-setup.sh jre-stub DIR}" ;;
  configure) configure ;;
  run) run ;;
  *) fail "usage: zookeeper-setup.sh jre-stub DIR | configure | run" ;;
esac
