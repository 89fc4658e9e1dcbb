"""Inventory files: many existing servers at once, as frozen entries (pure: no I/O but reading the file).

By extension: `.yaml`/`.yml` (our `Servers:` list, or an Ansible YAML inventory), `.ini` or none (an Ansible
INI inventory), `.csv` (a header row of name,host,port,user,key,groups). Every mistake is one BadInput naming
the file and line.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from . import files, yamlsrc
from .errors import BadInput
from .hostnames import NAME_HINT, SERVER_NAME, check_host, check_port, check_server_name, check_user, is_host_name
from .inputs.values import CRED_RE
from .inventory_ansible import Field, parse_ini, parse_yaml

SERVER_KEYS = ("Name", "Host", "Port", "Key", "Groups")
CSV_COLUMNS = ("name", "host", "port", "user", "key", "groups")
FORMATS = "'.yaml'/'.yml' (Servers: or an Ansible YAML inventory), '.ini' or no extension (Ansible INI), '.csv'"
T = TypeVar("T")


@dataclass(frozen=True)
class InventoryEntry:
    """One server of an inventory: how to reach it, its groups, and where the file says so."""

    name: str
    host: str  # a host name or an IP address (IPv6 without brackets)
    port: int
    user: str
    key: str | None  # cred:NAME as written, or a key file's absolute path (relative ones: to the inventory's folder)
    groups: tuple[str, ...]  # sorted
    file: str
    line: int


def load_inventory(path: Path | str) -> tuple[InventoryEntry, ...]:
    """The servers of an inventory file, in the file's order; BadInput (file:line) for anything wrong."""
    file = str(path)
    suffix = Path(file).suffix.lower()
    if suffix not in (".yaml", ".yml", ".ini", ".csv", ""):
        raise BadInput(f"unknown inventory format {suffix!r}", file=file, hint=f"Inventory files are {FORMATS}.")
    text = files.read_text(path, "inventory")
    folder = os.path.dirname(os.path.abspath(file))
    if suffix == ".csv":
        entries = _csv(text, file, folder)
    elif suffix in (".yaml", ".yml"):
        entries = _yaml(text, file, folder)
    else:

        entries = [build(file, folder, h.name, h.line, h.fields, h.groups) for h in parse_ini(text, file)]
    if not entries:
        raise BadInput("the inventory lists no server", file=file, hint=f"Inventory files are {FORMATS}.")
    return tuple(entries)


def at(file: str, line: int | None, prefix: str, check: Callable[[], T]) -> T:
    """check(), with a BadInput it raises placed at file:line (and its message after prefix)."""
    try:
        return check()
    except BadInput as exc:
        if exc.file is not None:
            raise
        raise BadInput(prefix + exc.message, file=file, line=line, hint=exc.hint) from None


def build(file: str, folder: str, name: Any, line: int, fields: Mapping[str, Field],
          groups: Any = ()) -> InventoryEntry:
    """An entry from its name and fields (host, port, user, key), each checked; the name is the address when
    no host is given and it is a host name."""
    at(file, line, "", lambda: check_server_name(name if isinstance(name, str) else repr(name)))
    who = f"server {name}: "
    host, user = fields.get("host"), fields.get("user")
    login: str | None = None
    if host is None:
        if not is_host_name(name):
            raise BadInput(f"server {name} has no address, and its name is not a host name", file=file, line=line,
                           hint="Give it one: 'Host:' (YAML), 'ansible_host=' (Ansible) or the host column (CSV).")
        address = name
    else:
        text = host.value if isinstance(host.value, str) else str(host.value)
        login, sep, bare = text.rpartition("@")
        if sep:
            at(file, host.line, who, lambda: check_user(login or "", text, "host"))
        else:
            login = None
        address = at(file, host.line, who, lambda: check_host(bare, text, "host"))
    if user is not None:
        named = user.value if isinstance(user.value, str) else str(user.value)
        at(file, user.line, who, lambda: check_user(named, named, "user"))
        if login is not None and login != named:
            raise BadInput(f"server {name}: the host says user {login!r}, the user says {named!r}", file=file,
                           line=user.line, hint="Give the user in one place.")
        login = named
    port = fields.get("port")
    number = 22 if port is None else at(file, port.line, who, lambda: check_port(_int(port.value), "port"))
    key = fields.get("key")
    return InventoryEntry(name, address, number, login or "root", None if key is None else _key(file, folder, name, key),
                          tuple(sorted(set(group_names(file, line, groups)))), file, line)


def _int(value: Any) -> Any:
    """An int from a number or its digits as text; anything else as it is (check_port refuses it)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _key(file: str, folder: str, name: str, key: Field) -> str:
    text = key.value
    if not isinstance(text, str) or not text.strip():
        raise BadInput(f"server {name}: the key {text!r} is not a file or cred:NAME", file=file, line=key.line,
                       hint="Write a private key file (relative to the inventory's folder) or cred:NAME.")
    if text.startswith("cred:"):
        if not CRED_RE.match(text[len("cred:"):]):
            raise BadInput(f"server {name}: {text!r} is not a valid credential name", file=file, line=key.line,
                           hint="Write cred:NAME with letters, digits, '_', '-', '.' or '/'.")
        return text
    return os.path.normpath(os.path.join(folder, os.path.expanduser(text)))


def group_names(file: str, line: int, groups: Any) -> list[str]:
    """Group names from a list, or from one text separated by spaces, commas or ';'; each a valid name."""
    if groups is None:
        return []
    items = re.split(r"[\s,;]+", groups) if isinstance(groups, str) else groups
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise BadInput(f"groups {groups!r} are not a list of names", file=file, line=line, hint="Write [web, eu].")
    names = [item for item in items if item != ""]
    for group in names:
        if not isinstance(group, str) or not SERVER_NAME.match(group):
            raise BadInput(f"invalid group name {group!r}", file=file, line=line, hint=NAME_HINT)
    return names


def _yaml(text: str, file: str, folder: str) -> list[InventoryEntry]:
    data = yamlsrc.load(text, file)
    if not isinstance(data, dict):
        raise BadInput("an inventory must be a YAML mapping", file=file, line=yamlsrc.line_of(data) or 1,
                       hint="Start with 'Servers:' (a list of Name, Host, Port, Key, Groups), or 'all:' (Ansible).")
    if "Servers" not in data:

        return [build(file, folder, h.name, h.line, h.fields, h.groups) for h in parse_yaml(data, file)]
    for key in data:
        if key != "Servers":
            raise BadInput(f"inventory: unknown key {key!r}", file=file, line=yamlsrc.line_of(data, key),
                           hint="The only top-level key is Servers (or write an Ansible inventory: 'all:').")
    servers = data["Servers"]
    if not isinstance(servers, list):
        raise BadInput("Servers must be a list", file=file, line=yamlsrc.line_of(data, "Servers"),
                       hint="Write '- Name: web1' / '  Host: root@203.0.113.7' items.")
    entries: list[InventoryEntry] = []
    first: dict[str, int] = {}
    for index, item in enumerate(servers):
        line = yamlsrc.line_of(servers, index) or 1
        if not isinstance(item, dict) or "Name" not in item:
            raise BadInput("each server needs a Name", file=file, line=line,
                           hint="Write '- Name: web1' and '  Host: root@203.0.113.7'.")
        for key in item:
            if key not in SERVER_KEYS:
                raise BadInput(f"server {item['Name']}: unknown key {key!r}", file=file,
                               line=yamlsrc.line_of(item, key), hint="Allowed keys: " + ", ".join(SERVER_KEYS) + ".")
        fields = {key.lower(): Field(item[key], yamlsrc.line_of(item, key) or line) for key in ("Host", "Port", "Key")
                  if key in item and item[key] is not None}
        groups = item.get("Groups")
        entry = build(file, folder, item["Name"], line, fields, groups)
        _unique(entry, first)
        entries.append(entry)
    return entries


def _unique(entry: InventoryEntry, first: dict[str, int]) -> None:
    if entry.name in first:
        raise BadInput(f"two servers are named {entry.name!r} (first at line {first[entry.name]})", file=entry.file,
                       line=entry.line, hint="Give each server a unique name.")
    first[entry.name] = entry.line


def _csv(text: str, file: str, folder: str) -> list[InventoryEntry]:
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    header: list[str] | None = None
    entries: list[InventoryEntry] = []
    first: dict[str, int] = {}
    end = 0
    try:
        for row in reader:
            line, end = end + 1, reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if header is None:
                header = _header(cells, file, line)
                continue
            if len(cells) != len(header):
                raise BadInput(f"this row has {len(cells)} columns, the header has {len(header)}", file=file,
                               line=line, hint="Columns: " + ",".join(header) + " (quote a value that has a comma).")
            values = dict(zip(header, cells, strict=True))
            fields = {column: Field(values[column], line) for column in ("host", "port", "user", "key")
                      if values.get(column)}
            entry = build(file, folder, values["name"], line, fields, values.get("groups", ""))
            _unique(entry, first)
            entries.append(entry)
    except csv.Error as exc:
        raise BadInput(f"invalid CSV: {exc}", file=file, line=reader.line_num,
                       hint="Check the quotes: a quoted value ends with a quote.") from None
    return entries


def _header(cells: list[str], file: str, line: int) -> list[str]:
    names = [cell.lower() for cell in cells]
    for name in names:
        if name not in CSV_COLUMNS:
            raise BadInput(f"unknown column {name!r}", file=file, line=line,
                           hint="The header names columns among: " + ",".join(CSV_COLUMNS) + " (name required).")
        if names.count(name) > 1:
            raise BadInput(f"the column {name!r} appears twice", file=file, line=line, hint="Keep one.")
    if "name" not in names:
        raise BadInput("the header has no name column", file=file, line=line,
                       hint="The first row names the columns, e.g. name,host,port,user,key,groups.")
    return names
