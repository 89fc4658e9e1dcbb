"""What goes into the base image's root filesystem: sshd settings, the init script, its build-time apt sources. No Docker."""

from __future__ import annotations

import re
from pathlib import Path

# The apt sources live in mirror.py; these names stay importable from here for older callers.
from .mirror import DEFAULT_MIRROR, SourceEntry, default_sources, host_debian_sources, pick_mirror

__all__ = [
    "DEFAULT_MIRROR", "INIT_PATH", "INIT_SCRIPT", "SSHD_CONFIG", "SourceEntry", "ULIMIT_HOOK", "configure",
    "default_sources", "host_debian_sources", "pick_mirror",
]  # fmt: skip

INIT_PATH = "/usr/local/sbin/stackscripts-init"

# docker's --init (tini) is PID 1: it reaps zombies and forwards SIGTERM to this script's exec'd sshd.
INIT_SCRIPT = """\
#!/bin/sh
# stackscripts local instance: fresh host keys on first start, SysV services, then sshd in the foreground.
set -u
if ! ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then
    ssh-keygen -A
fi
mkdir -p /run/sshd /run/lock
chmod 1777 /run/lock
chmod 0755 /run/sshd
if [ -d /root/.ssh ]; then
    chown -R root:root /root/.ssh
    chmod 700 /root/.ssh
    chmod 600 /root/.ssh/authorized_keys 2>/dev/null || true
fi
# A runlevel-2 utmp record, so that invoke-rc.d starts the services packages install, as on a VM.
python3 -c 'import struct, time; open("/run/utmp", "wb").write(struct.pack(
    "hi32s4s32s256shhiii16s20s", 1, 50 + 256 * 78, b"~", b"~~", b"runlevel", b"", 0, 0, 0, int(time.time()), 0, b"", b""))
' 2>/dev/null || true
# Services that scripts installed (docker.io...) start again after a reboot, as on a VM.
for service in /etc/rc2.d/S*; do
    case "$service" in *ssh|*procps|*'*') continue ;; esac
    timeout 60 "$service" start >>/var/log/stackscripts-boot.log 2>&1 </dev/null || true
done
exec /usr/sbin/sshd -D -e
"""

# Sourced by every init script through /lib/lsb/init-functions (its hook directory).
ULIMIT_HOOK_PATH = "/lib/lsb/init-functions.d/50-stackscripts-ulimit"
ULIMIT_HOOK = """\
# stackscripts local cloud: an instance may not raise a hard resource limit (the host can withhold
# CAP_SYS_RESOURCE), and `ulimit -n 1048576` under `set -e` (docker.io's init script) would then abort.
# A request above the hard limit is capped at the hard limit instead.
ulimit() {
    command ulimit "$@" 2>/dev/null && return 0
    [ $# -eq 2 ] || { command ulimit "$@"; return; }
    command ulimit -S "$1" "$(command ulimit -H "$1")"
}
"""

SSHD_CONFIG = """\
# stackscripts local cloud: root by key only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 30
"""


def configure(target: Path, sources: list[SourceEntry]) -> None:
    """Turn a fresh debootstrap tree into the base image's root filesystem."""
    (target / "etc/apt/sources.list").write_text(  # each instance gets its own at creation (mirror.py)
        "# Written by stackscripts when the image was built.\n" + "".join(e.line() + "\n" for e in sources)
    )
    for key in (target / "etc/ssh").glob("ssh_host_*"):
        key.unlink()  # each instance generates its own at first start
    (target / "etc/ssh/sshd_config.d").mkdir(exist_ok=True)
    (target / "etc/ssh/sshd_config.d/stackscripts.conf").write_text(SSHD_CONFIG)
    pam = target / "etc/pam.d/sshd"
    if pam.exists():  # containers may not set a login uid
        required = re.compile(r"(?m)^session\s+required\s+pam_loginuid\.so")
        pam.write_text(required.sub("session optional pam_loginuid.so", pam.read_text()))
    hook = target / ULIMIT_HOOK_PATH.lstrip("/")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(ULIMIT_HOOK)
    init = target / INIT_PATH.lstrip("/")
    init.write_text(INIT_SCRIPT)
    init.chmod(0o755)
    ssh_dir = target / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*", "var/log/*.log"):
        for path in target.glob(pattern):
            path.unlink()
