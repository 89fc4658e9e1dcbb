"""Server names, user names, host names and ports as people write them: checked, pure (no I/O, no DNS).

`servers add` (api/servers.py) and inventory files (inventory.py) apply the same rules, so nothing but a name,
an address or a number (never `-oProxyCommand=...` or `host;cmd`) reaches an SSH client or a shell.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import BadInput

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$")  # POSIX portable user names; never a leading '-'
HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
HOST_HINT = ("Write [USER@]HOST with HOST a host name, an IPv4 or an IPv6 address: root@203.0.113.7, "
             "admin@web1.example.com, root@[2001:db8::1].")
NAME_HINT = "Use letters, digits, '-', '_' and '.', starting with a letter or digit (at most 63)."


def check_server_name(name: str) -> str:
    """A server (or group) name: letters, digits, '-', '_', '.', starting with a letter or digit; else BadInput."""
    if not isinstance(name, str) or not SERVER_NAME.match(name):
        raise BadInput(f"invalid server name {name!r}", hint=NAME_HINT)
    return name


def is_host_name(text: str) -> bool:
    """Whether the text is a host name (RFC 1123) or an IP address, as check_host takes it."""
    try:
        check_host(text, text)
    except BadInput:
        return False
    return True


def check_host(text: str, given: str, what: str = "--host") -> str:
    """A host name (RFC 1123), an IPv4 address or an IPv6 address (bare or in brackets), as given; else BadInput."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        ipaddress.ip_address(inner)
        return inner
    except ValueError:
        pass
    name = text.removesuffix(".")
    labels = name.split(".")
    if (text == inner and 0 < len(name) <= 253 and all(HOST_LABEL.match(label) for label in labels)
            and not labels[-1].isdigit()):  # 999.1.1.1 is a bad IPv4 address, not a name
        return text
    raise BadInput(f"{what} {given!r}: {text!r} is not a host name, an IPv4 address or an IPv6 address",
                   hint=HOST_HINT)


def check_user(user: str, given: str, what: str = "--host") -> str:
    """A POSIX user name (up to 32 letters, digits, '_', '.' or '-', not starting with '-'); else BadInput."""
    if not USER_NAME.match(user):
        raise BadInput(f"{what} {given!r}: {user!r} is not a user name (up to 32 letters, digits, '_', '.' or '-', "
                       "not starting with '-')", hint=HOST_HINT)
    return user


def parse_host(text: str, what: str = "--host") -> tuple[str, str]:
    """`[user@]host` (user defaults to root), each checked: a POSIX user name, a host name or an IP address; so
    nothing else (`-oProxyCommand=...`, `host;cmd`) can reach an SSH client or a shell."""
    user, sep, host = text.rpartition("@")
    if not host:
        raise BadInput(f"{what} {text!r} has no host name", hint=HOST_HINT)
    if sep:
        check_user(user, text, what)
    return (user if sep else "root"), check_host(host, text, what)


def check_port(port: int, what: str = "--port") -> int:
    """A TCP port, 1 to 65535 (an int, not a bool); else BadInput."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise BadInput(f"{what} {port!r} is not a TCP port", hint="Use a number from 1 to 65535 (SSH: 22).")
    return port
