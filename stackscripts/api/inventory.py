"""Many existing servers at once: an inventory file's servers checked, recorded in one pass, host keys scanned."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, ConnectionFailed, HostKeyMismatch
from ..inventory import InventoryEntry, load_inventory
from ..store.base import ServerRecord
from .servers import address, host_fingerprint

if TYPE_CHECKING:
    from .controller import Controller

ACTIONS = ("added", "unchanged", "updated")


@dataclass(frozen=True)
class ImportedServer:
    """One server of the inventory: what the import did to its record, and its host key's fingerprint."""

    name: str
    address: str  # user@host:port
    groups: tuple[str, ...]
    action: str  # added, unchanged (the record already said all this) or updated
    line: int
    fingerprint: str | None = None  # SHA256:... of the host key now recorded, if any
    error: str | None = None  # why its host key could not be scanned (the record is written all the same)


@dataclass(frozen=True)
class ImportResult:
    """What `servers import` did, server by server; ok unless a host key could not be scanned."""

    file: str
    servers: tuple[ImportedServer, ...]
    scanned: bool

    @property
    def failed(self) -> tuple[ImportedServer, ...]:
        return tuple(s for s in self.servers if s.error)

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, action: str) -> int:
        return sum(1 for s in self.servers if s.action == action)


def import_servers(controller: Controller, path: Path | str, *, scan: bool = False, parallel: int = 20,
                   update: bool = False, timeout: float = 10.0) -> ImportResult:
    """Record every server of an inventory file, or none: each entry is checked (and compared with the store)
    before the first is written. A name already recorded at another address is BadInput unless `update`; the
    groups are the inventory's. With `scan`, host keys are fetched (at most `parallel` at once) and recorded; a
    host that cannot be reached is reported in its ImportedServer.error and its record written without a key."""
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise BadInput(f"--parallel {parallel} must be at least 1", hint="Scan at most N hosts at once: --parallel 20.")
    if not 0 < timeout < 3600:
        raise BadInput(f"--timeout {timeout} must be a number of seconds above 0 (below an hour)",
                       hint="E.g. --timeout 10.")
    store = controller.store
    entries = load_inventory(path)
    known = {s.name: s for s in store.list_servers()}
    plans = [_plan(entry, known.get(entry.name), update) for entry in entries]
    keys = _scan(entries, parallel, timeout) if scan else {}
    done = []
    for entry, (record, changes, action) in zip(entries, plans, strict=True):
        key, error = _host_key(record, entry, keys.get(entry.name))
        if record is None:
            store.put_server(ServerRecord(name=entry.name, host=entry.host, port=entry.port, user=entry.user,
                                          key_path=entry.key, host_key=key, extra={"groups": list(entry.groups)}))
        else:
            if key is not None and key != changes.get("host_key", record.host_key):
                changes["host_key"] = key
            if changes:
                store.update_server(entry.name, **changes)
            key = changes.get("host_key", record.host_key)
        done.append(ImportedServer(entry.name, _address(entry), entry.groups, action, entry.line,
                                   host_fingerprint(key) if key else None, error))
    return ImportResult(str(path), tuple(done), scan)


def scan_server(controller: Controller, name: str, timeout: float = 10.0) -> ServerRecord:
    """Fetch a recorded server's host key (no login) and record it; ConnectionFailed if it cannot be reached,
    HostKeyMismatch if it differs from the key already recorded."""
    from ..transport.ssh import scan_host_key

    record = controller.store.get_server(name)
    if not record.host:
        raise BadInput(f"server {name} has no address yet", hint="Launch it or add it with --host.")
    key = scan_host_key(record.host, record.port, timeout, server=name)
    if record.host_key and record.host_key.split()[:2] != key.split()[:2]:
        raise HostKeyMismatch(_mismatch(record.host_key, key), server=name,
                               hint=f"If the host was rebuilt, run `stackscripts servers forget-key {name}` first.")
    return controller.store.update_server(name, host_key=key)


def _address(entry: InventoryEntry) -> str:
    host = f"[{entry.host}]" if ":" in entry.host else entry.host
    return f"{entry.user}@{host}:{entry.port}"


def _plan(entry: InventoryEntry, old: ServerRecord | None,
          update: bool) -> tuple[ServerRecord | None, dict[str, Any], str]:
    """The record there is (None: none), the columns to change, and the action; BadInput at the entry's line
    for a key file that is not there, or another address without `update`."""
    if entry.key is not None and not entry.key.startswith("cred:") and not Path(entry.key).is_file():
        raise BadInput(f"server {entry.name}: SSH key file {entry.key} not found", file=entry.file, line=entry.line,
                       hint="Give a private key file (relative paths are to the inventory's folder), or cred:NAME.")
    if old is None:
        return None, {}, "added"
    moved = (old.host, old.port, old.user) != (entry.host, entry.port, entry.user)
    if moved and not update:
        raise BadInput(f"server {entry.name} is recorded at {address(old)}, the inventory says {_address(entry)}",
                       file=entry.file, line=entry.line,
                       hint="Pass --update to change its address (a new host or port forgets its recorded host key), "
                            "or give it another name.")
    wanted: Mapping[str, Any] = {"host": entry.host, "port": entry.port, "user": entry.user, "key_path": entry.key}
    changes = {column: value for column, value in wanted.items() if getattr(old, column) != value}
    groups = list(entry.groups)
    if list(old.extra.get("groups") or []) != groups or "groups" not in old.extra:
        changes["extra"] = {**old.extra, "groups": groups}
    if "host" in changes or "port" in changes:
        changes["host_key"] = None  # another machine: its key is not the one recorded
    return old, changes, "updated" if changes else "unchanged"


def _scan(entries: tuple[InventoryEntry, ...], parallel: int, timeout: float) -> dict[str, str | ConnectionFailed]:
    """Each entry's host key (`type base64`), or why it could not be had; at most `parallel` at once."""
    from ..transport.ssh import scan_host_key

    def one(entry: InventoryEntry) -> str | ConnectionFailed:
        try:
            return scan_host_key(entry.host, entry.port, timeout, server=entry.name)
        except ConnectionFailed as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(parallel, len(entries))) as pool:
        return dict(zip((e.name for e in entries), pool.map(one, entries), strict=True))


def _host_key(record: ServerRecord | None, entry: InventoryEntry,
              scanned: str | ConnectionFailed | None) -> tuple[str | None, str | None]:
    """The scanned key to record (None: none) and the error to report: a failed scan, or a key that differs from
    the one recorded for the same address (kept: it is what connections are checked against)."""
    if isinstance(scanned, ConnectionFailed):
        return None, f"{scanned.message.removeprefix(entry.name + ': ')} It is recorded without a host key."
    if scanned is None or record is None or not record.host_key:
        return scanned, None
    if (record.host, record.port) != (entry.host, entry.port):
        return scanned, None  # another machine now: the old key is forgotten
    if record.host_key.split()[:2] == scanned.split()[:2]:
        return scanned, None
    return None, _mismatch(record.host_key, scanned) + f" If {entry.name} was rebuilt, run " \
        f"`stackscripts servers forget-key {entry.name}` and import again."


def _mismatch(recorded: str, scanned: str) -> str:
    return (f"the host presents the key {host_fingerprint(scanned)}, not the recorded "
            f"{host_fingerprint(recorded)}: the recorded key is kept.")
