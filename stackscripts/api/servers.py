"""Server records and how to reach them: add, list, forget keys, and env: lookups across servers."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import BadInput
from ..inputs.creds import Credentials
from ..inputs.materialize import value_text
from ..inputs.values import parse_value
from ..store.base import ServerRecord, Store
from ..transport.base import HostSpec

SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
ADDRESS_NAMES = ("PRIVATE_IP", "PUBLIC_IP", "HOST", "ADDRESS")


def parse_host(text: str) -> tuple[str, str]:
    """`user@host` (user defaults to root)."""
    user, sep, host = text.rpartition("@")
    if not host:
        raise BadInput(f"--host {text!r} has no host name", hint="Write --host root@203.0.113.7.")
    return (user if sep else "root"), host


def new_server(name: str, host: str, port: int = 22, key: str | None = None) -> ServerRecord:
    if not SERVER_NAME.match(name):
        raise BadInput(f"invalid server name {name!r}",
                       hint="Use letters, digits, '-', '_' and '.', starting with a letter or digit.")
    user, address = parse_host(host)
    if not 0 < port < 65536:
        raise BadInput(f"--port {port} is not a TCP port", hint="Use 1-65535.")
    key_path = None
    if key:
        key_path = str(Path(os.path.expanduser(key)).resolve())
        if not Path(key_path).is_file():
            raise BadInput("SSH key file not found", file=key_path, hint="Pass --key with a private key file.")
    return ServerRecord(name=name, host=address, port=port, user=user, key_path=key_path)


def host_spec(server: ServerRecord, connect_timeout: float = 15.0) -> HostSpec:
    if not server.host:
        raise BadInput(f"server {server.name} has no address yet", hint="Launch it or add it with --host.")
    return HostSpec(name=server.name, host=server.host, port=server.port, user=server.user,
                    key_path=server.key_path, host_key=server.host_key, connect_timeout=connect_timeout)


def env_lookup(store: Store, creds: Credentials, secrets: list[str] | None = None):  # type: ignore[no-untyped-def]
    """Resolve env:SERVER:NAME from another server's record: its addresses, extra data, then inputs.

    A value that is a credential on the other server stays a secret here: it is added to `secrets`.
    """

    def lookup(server: str, name: str) -> str | None:
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
