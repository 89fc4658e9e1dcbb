"""The instance's login user: root by key (the default), or the template's `SSH User`, made at launch like a cloud image's.

A cloud image's default user (Debian's `admin` on EC2) is an ordinary account with the launch key and passwordless
sudo, and root cannot log in. A local instance whose `SSH User` is not root gets the same: the account is created
(or, in a custom image, reused when it is a regular one, uid >= 1000), its ~/.ssh/authorized_keys holds the launch
key, /etc/sudoers.d/90-stackscripts gives it `NOPASSWD: ALL`, and root has no authorized key. Steps then run as that
user; a script that needs root uses sudo, as it would on EC2.
"""

from __future__ import annotations

import re

from ...errors import CloudError

ROOT = "root"
USER_PATTERN = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
KEY_PATTERN = re.compile(r"^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\x00-\x1f]*)?$")

# Run as root inside the instance with STACKSCRIPTS_USER and STACKSCRIPTS_KEYS in the environment (never in the text).
CREATE_USER = r"""
set -eu
u="$STACKSCRIPTS_USER"
if uid=$(id -u "$u" 2>/dev/null); then
    if [ "$uid" -lt 1000 ]; then echo "$u is a system account (uid $uid) in this image" >&2; exit 3; fi
else
    useradd --create-home --shell /bin/bash --user-group --groups sudo "$u"
fi
usermod --password '*' "$u"  # no password, not locked: key login only
group=$(id -gn "$u")
home=$(getent passwd "$u" | cut -d: -f6)
install -d -m 700 -o "$u" -g "$group" "$home/.ssh"
printf '%s' "$STACKSCRIPTS_KEYS" > "$home/.ssh/authorized_keys"
chown "$u:$group" "$home/.ssh/authorized_keys"
chmod 600 "$home/.ssh/authorized_keys"
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$u" > /etc/sudoers.d/90-stackscripts
chmod 440 /etc/sudoers.d/90-stackscripts
visudo -cq
"""


def check_user(user: str) -> str:
    """The SSH user as given, or CloudError when it cannot be a login name."""
    if user != ROOT and not USER_PATTERN.match(user or ""):
        raise CloudError(
            f"local cloud: SSH User {user!r} is not a valid login name: use up to 32 lower-case letters, digits, "
            "'_' or '-', starting with a letter or '_'."
        )
    return user


def check_keys(text: str) -> str:
    """The authorized_keys text for the launch key(s), or CloudError when it is not OpenSSH public key lines."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines or not all(KEY_PATTERN.match(line) for line in lines):
        raise CloudError(
            "local cloud: ex_authorized_key must be one or more OpenSSH public key lines ('ssh-ed25519 AAAA...')."
        )
    return "\n".join(lines) + "\n"
