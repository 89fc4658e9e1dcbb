"""Server records and how to reach them: add, list, forget keys, and env: lookups across servers."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any

from ..errors import BadInput, NotFound
from ..inputs.creds import Credentials
from ..inputs.materialize import EnvLookup, value_text
from ..inputs.values import CRED_RE, parse_value
from ..store.base import ServerRecord, Store
from ..store.liveness import Controller as Process
from ..store.liveness import is_alive
from ..transport.base import HostSpec

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ADDRESS_NAMES = ("PRIVATE_IP", "PUBLIC_IP", "HOST", "ADDRESS")


USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$")  # POSIX portable user names; never a leading '-'
HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
HOST_HINT = ("Write [USER@]HOST with HOST a host name, an IPv4 or an IPv6 address: root@203.0.113.7, "
             "admin@web1.example.com, root@[2001:db8::1].")


def check_host(text: str, given: str) -> str:
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
    raise BadInput(f"--host {given!r}: {text!r} is not a host name, an IPv4 address or an IPv6 address", hint=HOST_HINT)


def parse_host(text: str) -> tuple[str, str]:
    """`[user@]host` (user defaults to root), each checked: a POSIX user name, a host name or an IP address; so
    nothing else (`-oProxyCommand=...`, `host;cmd`) can reach an SSH client or a shell."""
    user, sep, host = text.rpartition("@")
    if not host:
        raise BadInput(f"--host {text!r} has no host name", hint=HOST_HINT)
    if sep and not USER_NAME.match(user):
        raise BadInput(f"--host {text!r}: {user!r} is not a user name (up to 32 letters, digits, '_', '.' or '-', "
                       "not starting with '-')", hint=HOST_HINT)
    return (user if sep else "root"), check_host(host, text)


def check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise BadInput(f"--port {port!r} is not a TCP port", hint="Use a number from 1 to 65535 (SSH: 22).")
    return port


def new_server(name: str, host: str, port: int = 22, key: str | None = None) -> ServerRecord:
    if not SERVER_NAME.match(name):
        raise BadInput(f"invalid server name {name!r}",
                       hint="Use letters, digits, '-', '_' and '.', starting with a letter or digit.")
    user, address = parse_host(host)
    check_port(port)
    return ServerRecord(name=name, host=address, port=port, user=user, key_path=check_key(key) if key else None)


def check_key(key: str) -> str:
    """What a server record keeps for --key: `cred:NAME` as given (fetched from the credential backends at each
    connection, so anyone who reaches them can connect), else the absolute path of a private key file."""
    if key.startswith("cred:"):
        if not CRED_RE.match(key[len("cred:"):]):
            raise BadInput(f"--key {key!r}: invalid credential name",
                           hint="Write --key cred:NAME with letters, digits, '_', '-', '.' or '/', or a key file.")
        return key
    path = str(Path(os.path.expanduser(key)).resolve())
    if not Path(path).is_file():
        raise BadInput("SSH key file not found", file=path, hint="Pass --key with a private key file, or cred:NAME.")
    return path


def address(record: ServerRecord) -> str:
    """How to reach the server (`user@host:port`), or honestly why there is no address."""
    if record.host:
        host = f"[{record.host}]" if ":" in record.host else record.host
        return f"{record.user}@{host}:{record.port}"
    if record.extra.get("launching") and record.state == "pending":
        by: Any = record.extra.get("launched_by") or {}
        try:
            launcher = Process(str(by["host"]), int(by["pid"]), by.get("start"), by.get("boot"))
        except (KeyError, TypeError, ValueError):
            launcher = None
        alive = is_alive(launcher) if launcher is not None else False
        if launcher is not None and alive:
            return f"no address yet (launch in progress, pid {launcher.pid})"
        if launcher is not None and alive is None:
            return f"no address yet (launched from {launcher.host}: in progress there, or interrupted)"
        return (f"no address yet (launch interrupted; 'stackscripts terminate {record.name}' destroys what it "
                "made)")
    if record.state == "terminated":
        return "none (terminated)"
    return "no address yet (not launched)"


def host_spec(server: ServerRecord, connect_timeout: float = 15.0) -> HostSpec:
    if not server.host:
        raise BadInput(f"server {server.name} has no address yet", hint="Launch it or add it with --host.")
    return HostSpec(name=server.name, host=server.host, port=server.port, user=server.user,
                    key_path=server.key_path, host_key=server.host_key, connect_timeout=connect_timeout)


def env_lookup(store: Store, creds: Credentials, secrets: list[str] | None = None,
               self_name: str | None = None) -> EnvLookup:
    """Resolve env:SERVER:NAME from another server's record: its addresses, extra data, then inputs;
    env:NAME (server "") from the record of `self_name`, the server the plan runs on.

    A value that is a credential on the other server stays a secret here: it is added to `secrets`.
    """

    def lookup(server: str, name: str) -> str | None:
        if not server:
            if self_name is None:
                return None
            try:
                record = store.get_server(self_name)
            except NotFound:
                return ""  # checked before the instance exists (launch): its values come at boot
            if name in ("RS_UUID", "RS_INSTANCE_UUID"):
                return record.node_id or record.name
            if name == "RS_SERVER_NAME":
                return record.name
        else:
            record = store.get_server(server)
        if name in record.extra and record.extra[name] is not None:
            return str(record.extra[name])
        if name == "PUBLIC_IP":
            return record.extra.get("public_ip") or record.host
        if name in ADDRESS_NAMES:
            return record.extra.get("private_ip") or record.host
        shown = record.inputs.get(name)
        if shown is None or shown in ("(unset)", "********"):
            return None
        value = parse_value(shown, name=name)
        if value.kind == "env":
            return None  # no chains: a server's env inputs point at servers launched before it
        text = value_text(value, name, creds, lambda s, n: None)
        if value.secret and secrets is not None:
            secrets.append(text)
            secrets.extend(line for line in text.split("\n") if len(line) >= 4)
        return text

    return lookup
