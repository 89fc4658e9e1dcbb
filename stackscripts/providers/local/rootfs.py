"""What goes into the base image's root filesystem: apt sources, sshd settings, the init script. No Docker here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MIRROR = "http://deb.debian.org/debian"
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


@dataclass(frozen=True)
class SourceEntry:
    """One `deb URI SUITE COMPONENTS...` line."""

    uri: str
    suite: str
    components: tuple[str, ...]

    def line(self) -> str:
        return f"deb {self.uri} {self.suite} {' '.join(self.components)}"


def _wanted(suite: str, codename: str) -> bool:
    return suite == codename or suite in {f"{codename}-{s}" for s in ("updates", "security", "backports")} or (
        suite == f"{codename}/updates"
    )


def parse_one_line(text: str) -> list[SourceEntry]:
    """Entries from a classic sources.list (options in brackets are dropped)."""
    entries = []
    for raw in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", raw.split("#", 1)[0]).split()
        if len(line) >= 4 and line[0] == "deb":
            entries.append(SourceEntry(line[1].rstrip("/"), line[2], tuple(line[3:])))
    return entries


def parse_deb822(text: str) -> list[SourceEntry]:
    """Entries from a deb822 .sources file (paragraphs of Types/URIs/Suites/Components)."""
    entries = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for raw in paragraph.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0] in " \t" and key:
                fields[key] += " " + raw.strip()
            elif ":" in raw:
                key, _, value = raw.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                entries.append(SourceEntry(uri.rstrip("/"), suite, tuple(fields.get("components", "main").split())))
    return entries


def host_debian_sources(codename: str, etc: Path = Path("/etc/apt")) -> list[SourceEntry]:
    """The host's Debian archive entries for `codename` (third-party repositories are left out)."""
    entries: list[SourceEntry] = []
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if path.suffix == ".sources":
            entries += parse_deb822(text)
        elif path.name == "sources.list" or path.suffix == ".list":
            entries += parse_one_line(text)
    seen: set[SourceEntry] = set()
    kept = []
    for entry in entries:
        if _wanted(entry.suite, codename) and entry not in seen:
            seen.add(entry)
            kept.append(entry)
    return kept


def pick_mirror(entries: list[SourceEntry]) -> str:
    """The URI serving the release itself (not -security/-updates), else deb.debian.org."""
    for entry in entries:
        if "/" not in entry.suite and "-" not in entry.suite and "security" not in entry.uri:
            return entry.uri
    return DEFAULT_MIRROR


def default_sources(codename: str, mirror: str) -> list[SourceEntry]:
    return [
        SourceEntry(mirror, codename, ("main",)),
        SourceEntry(mirror, f"{codename}-updates", ("main",)),
        SourceEntry("http://deb.debian.org/debian-security", f"{codename}-security", ("main",)),
    ]


def configure(target: Path, sources: list[SourceEntry]) -> None:
    """Turn a fresh debootstrap tree into the base image's root filesystem."""
    (target / "etc/apt/sources.list").write_text(
        "# Written by stackscripts from the build host's Debian sources.\n" + "".join(e.line() + "\n" for e in sources)
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
