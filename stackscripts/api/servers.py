"""Server records and how to reach them: add, list, forget keys, and env: lookups across servers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import BadInput, NotFound
from ..hostnames import HOST_HINT, SERVER_NAME, USER_NAME, check_host, check_port, check_server_name, parse_host
from ..inputs.creds import Credentials
from ..inputs.materialize import EnvLookup, value_text
from ..inputs.values import CRED_RE, parse_value
from ..store.base import ServerRecord, Store
from ..store.liveness import Controller as Process
from ..store.liveness import is_alive
from ..transport.base import HostSpec

ADDRESS_NAMES = ("PRIVATE_IP", "PUBLIC_IP", "HOST", "ADDRESS")
__all__ = ["HOST_HINT", "SERVER_NAME", "USER_NAME", "address", "check_host", "check_key", "check_port", "env_lookup",
           "host_fingerprint", "host_spec", "new_server", "parse_host", "select_servers", "server_groups"]


def server_groups(record: ServerRecord) -> list[str]:
    """The groups a server belongs to (`extra["groups"]`, set by `servers import`), sorted."""
    groups = record.extra.get("groups") if record.extra else None
    return sorted(str(g) for g in groups) if isinstance(groups, (list, tuple)) else []


def select_servers(store: Store, *, deployment: str | None = None, group: str | None = None,
                   team: str | None = None) -> list[ServerRecord]:
    """The live servers (not terminated) of a deployment and/or a group (and/or a team), by name.

    NotFound, naming the known deployments or groups, when a given deployment or group matches none."""
    every = [s for s in store.list_servers(team) if s.state != "terminated"]
    chosen = every
    if deployment is not None:
        chosen = [s for s in chosen if s.deployment == deployment]
        if not chosen:
            known = sorted({s.deployment for s in every if s.deployment})
            raise NotFound(f"no live server in deployment {deployment!r}",
                           hint=f"Known deployments: {', '.join(known)}." if known else "No server is in a deployment.")
    if group is not None:
        chosen = [s for s in chosen if group in server_groups(s)]
        if not chosen:
            known = sorted({g for s in every for g in server_groups(s)})
            where = f" of deployment {deployment!r}" if deployment is not None else ""
            raise NotFound(f"no live server{where} in group {group!r}",
                           hint=f"Known groups: {', '.join(known)}." if known
                           else "No server is in a group: 'stackscripts servers import FILE' records groups.")
    return chosen


def new_server(name: str, host: str, port: int = 22, key: str | None = None) -> ServerRecord:
    """A server record for an existing host, every part checked (BadInput naming the one that is wrong)."""
    check_server_name(name)
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


def host_fingerprint(host_key: str) -> str:
    """The SHA256 fingerprint of a recorded host key (`type base64`), as `ssh-keygen -lf` shows it: `SHA256:...`."""
    try:
        blob = base64.b64decode(host_key.split()[1], validate=True)
    except (IndexError, ValueError, binascii.Error):
        raise BadInput(f"{host_key[:40]!r} is not a host key (expected 'type base64')") from None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


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
