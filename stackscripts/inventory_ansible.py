"""Ansible inventories (YAML and INI) read into hosts with their connection fields and groups (pure).

Groups nest (`children`): a host of a child group is in its parents too. Variables apply lowest first: `all`,
then groups from the outermost in (by depth, then name), then the host's own. Of the `ansible_` variables,
ansible_host, ansible_port, ansible_user and ansible_ssh_private_key_file (and their older `ansible_ssh_`
spellings) are read; any other `ansible_` variable would change how a host is reached and is refused; other
variables belong to playbooks and are left out.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from . import yamlsrc
from .errors import BadInput
from .hostnames import NAME_HINT, SERVER_NAME

KEYS = {"ansible_host": "host", "ansible_ssh_host": "host", "ansible_port": "port", "ansible_ssh_port": "port",
        "ansible_user": "user", "ansible_ssh_user": "user", "ansible_ssh_private_key_file": "key",
        "ansible_private_key_file": "key"}
IGNORED = ("ansible_python_interpreter",)  # how Ansible runs its modules; nothing to stackscripts
CONNECTIONS = ("ssh", "smart", "paramiko")
KEYS_HINT = ("stackscripts reads ansible_host, ansible_port, ansible_user and ansible_ssh_private_key_file; "
             "remove other ansible_ settings (passwords, become, proxies, connection options) from this inventory.")
RANGE = re.compile(r"\[([0-9]+|[A-Za-z]):([0-9]+|[A-Za-z])(?::([0-9]+))?\]")
MAX_RANGE = 10_000
SECTION = re.compile(r"^\[([^\]]*)\]$")


@dataclass(frozen=True)
class Field:
    """A value as written and its line."""

    value: Any
    line: int


@dataclass(frozen=True)
class AnsibleHost:
    """A host with its connection fields (host, port, user, key) and every group it is in but all/ungrouped."""

    name: str
    line: int
    fields: dict[str, Field]
    groups: tuple[str, ...]


@dataclass
class _Group:
    line: int
    vars: dict[str, Field] = field(default_factory=dict)
    children: set[str] = field(default_factory=set)
    hosts: set[str] = field(default_factory=set)


class _Inventory:
    """Groups and hosts as read, then each host's groups and variables worked out."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.groups: dict[str, _Group] = {"all": _Group(1)}
        self.hosts: dict[str, tuple[int, dict[str, Field]]] = {}

    def group(self, name: str, line: int) -> _Group:
        if name not in self.groups:
            if not SERVER_NAME.match(name):
                raise BadInput(f"invalid group name {name!r}", file=self.file, line=line, hint=NAME_HINT)
            self.groups[name] = _Group(line)
        return self.groups[name]

    def variables(self, target: dict[str, Field], name: Any, value: Any, line: int) -> None:
        """Keep one variable, checked: a known ansible_ key, an ignored one, or a playbook's (left out)."""
        name = str(name)
        if name == "ansible_connection":
            if str(value) not in CONNECTIONS:
                raise BadInput(f"ansible_connection={value}: stackscripts reaches servers over SSH only", file=self.file,
                               line=line, hint="Leave these hosts out of the inventory, or use ansible_connection=ssh.")
        elif name in KEYS:
            target[KEYS[name]] = Field(value, line)
        elif name.startswith("ansible_") and name not in IGNORED:
            raise BadInput(f"unknown key {name!r}", file=self.file, line=line, hint=KEYS_HINT)

    def add_host(self, pattern: str, group: str, line: int, found: dict[str, Field]) -> None:
        for name in expand(pattern, self.file, line):
            self.hosts.setdefault(name, (line, {}))[1].update(found)
            self.group(group, line).hosts.add(name)

    def resolved(self) -> list[AnsibleHost]:
        parents: dict[str, set[str]] = {name: set() for name in self.groups}
        for name, group in self.groups.items():
            for child in group.children:
                parents[child].add(name)
        for name in self.groups:
            if name != "all" and not parents[name]:
                parents[name].add("all")
        depth: dict[str, int] = {}
        for name in self.groups:
            self._depth(name, parents, depth, ())
        out = []
        for host, (line, own) in sorted(self.hosts.items(), key=lambda item: item[1][0]):
            direct = {name for name, group in self.groups.items() if host in group.hosts}
            every = set(direct)
            todo = list(direct)
            while todo:
                for parent in parents[todo.pop()]:
                    if parent not in every:
                        every.add(parent)
                        todo.append(parent)
            fields: dict[str, Field] = {}
            for name in sorted(every, key=lambda g: (depth[g], g)):
                fields.update(self.groups[name].vars)
            fields.update(own)
            out.append(AnsibleHost(host, line, fields, tuple(sorted(every - {"all", "ungrouped"}))))
        return out

    def _depth(self, name: str, parents: dict[str, set[str]], depth: dict[str, int], path: tuple[str, ...]) -> int:
        if name in path:
            raise BadInput(f"group {name!r} is its own child ({' -> '.join((*path[path.index(name):], name))})",
                           file=self.file, line=self.groups[name].line, hint="Remove one of the children entries.")
        if name not in depth:
            depth[name] = 1 + max((self._depth(p, parents, depth, (*path, name)) for p in parents[name]), default=-1)
        return depth[name]


def expand(pattern: str, file: str, line: int) -> list[str]:
    """Ansible host ranges: web[01:03] is web01, web02, web03; [a:c] letters; [0:10:5] a step."""
    match = RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step_text = match.group(1), match.group(2), match.group(3)
    step = int(step_text) if step_text else 1
    numeric = start.isdigit() and end.isdigit()
    if not step or (not numeric and (start.isdigit() or end.isdigit())):
        raise BadInput(f"host range {match.group(0)!r} is not [START:END] of numbers or of letters", file=file,
                       line=line, hint="Write web[01:50].example.com or db-[a:f].")
    first, last = (int(start), int(end)) if numeric else (ord(start), ord(end))
    if last < first or (last - first) // step + 1 > MAX_RANGE:
        raise BadInput(f"host range {match.group(0)!r} must go up and hold at most {MAX_RANGE:,} hosts", file=file,
                       line=line, hint="Write web[01:50], not web[50:01].")
    width = len(start) if numeric and start.startswith("0") else 0
    items = [str(n).zfill(width) if numeric else chr(n) for n in range(first, last + 1, step)]
    head, tail = pattern[: match.start()], pattern[match.end():]
    names = [head + item + rest for item in items for rest in expand(tail, file, line)]
    if len(names) > MAX_RANGE:
        raise BadInput(f"the host pattern {pattern!r} makes more than {MAX_RANGE:,} hosts", file=file, line=line)
    return names


def parse_yaml(data: dict[str, Any], file: str) -> list[AnsibleHost]:
    """An Ansible YAML inventory: top-level groups (usually `all:`), each with hosts, vars and children."""
    inventory = _Inventory(file)
    for name, body in data.items():
        _yaml_group(inventory, str(name), body, yamlsrc.line_of(data, name) or 1, None)
    return inventory.resolved()


def _yaml_group(inventory: _Inventory, name: str, body: Any, line: int, parent: _Group | None) -> None:
    file = inventory.file
    group = inventory.group(name, line)
    if parent is not None:
        parent.children.add(name)
    if body is None:
        return
    if not isinstance(body, dict):
        raise BadInput(f"group {name!r} must be a mapping of hosts, vars and children", file=file, line=line,
                       hint="Write 'hosts:' with host names under it (a host's variables under its name).")
    for key in body:
        if key not in ("hosts", "vars", "children"):
            raise BadInput(f"group {name}: unknown key {key!r}", file=file, line=yamlsrc.line_of(body, key),
                           hint="A group has hosts, vars and children.")
    for key in ("hosts", "vars", "children"):
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise BadInput(f"group {name}: {key} must be a mapping", file=file, line=yamlsrc.line_of(body, key),
                           hint="Write each name on its own line, followed by ':'.")
    for key, value in (body.get("vars") or {}).items():
        inventory.variables(group.vars, key, value, yamlsrc.line_of(body["vars"], key) or line)
    hosts = body.get("hosts") or {}
    for host, values in hosts.items():
        host_line = yamlsrc.line_of(hosts, host) or line
        if values is not None and not isinstance(values, dict):
            raise BadInput(f"host {host}: its variables must be a mapping", file=file, line=host_line,
                           hint="Write 'ansible_host: 203.0.113.7' under the host's name, or nothing.")
        found: dict[str, Field] = {}
        for key, value in (values or {}).items():
            inventory.variables(found, key, value, yamlsrc.line_of(values, key) or host_line)
        inventory.add_host(str(host), name, host_line, found)
    children = body.get("children") or {}
    for child, child_body in children.items():
        _yaml_group(inventory, str(child), child_body, yamlsrc.line_of(children, child) or line, group)


def parse_ini(text: str, file: str) -> list[AnsibleHost]:
    """An Ansible INI inventory: hosts before any section are ungrouped; [g], [g:vars], [g:children]."""
    inventory = _Inventory(file)
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        section = SECTION.match(line)
        if section:
            group, _, kind = section.group(1).strip().partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise BadInput(f"unknown section kind {kind!r} in [{section.group(1)}]", file=file, line=number,
                               hint="Sections are [group], [group:vars] and [group:children].")
            inventory.group(group, number)
        elif kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise BadInput(f"[{group}:vars] takes NAME=VALUE lines, not {line!r}", file=file, line=number,
                               hint="Write e.g. ansible_user=deploy.")
            inventory.variables(inventory.groups[group].vars, key.strip(), _value(value.strip(), file, number), number)
        elif kind == "children":
            child = line.split("#")[0].split(";")[0].strip()
            inventory.group(child, number)
            inventory.groups[group].children.add(child)
        else:
            _ini_host(inventory, group, line, number)
    return inventory.resolved()


def _ini_host(inventory: _Inventory, group: str, line: str, number: int) -> None:
    """`NAME[:PORT] [key=value ...]` (values may be quoted; '#' starts a comment)."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise BadInput(f"cannot read this host line: {exc}", file=inventory.file, line=number,
                       hint="Close the quote, or quote a value that has spaces.") from None
    if not tokens:
        return
    name, found = tokens[0], {}
    head, sep, port = name.rpartition(":")
    if sep and port.isdigit() and ":" not in RANGE.sub("", head):  # web1:2222, web[01:09]:2222; not an IPv6 address
        name = head
        found["port"] = Field(port, number)
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise BadInput(f"host {name}: {token!r} is not NAME=VALUE", file=inventory.file, line=number,
                           hint="Write e.g. web1 ansible_host=203.0.113.7 ansible_port=2222.")
        inventory.variables(found, key, value, number)
    inventory.add_host(name, group, number, found)


def _value(text: str, file: str, number: int) -> str:
    """A [group:vars] value: unquoted when it is one quoted word, else as written."""
    if text[:1] in ("'", '"'):
        try:
            words = shlex.split(text, comments=True)
        except ValueError as exc:
            raise BadInput(f"cannot read this value: {exc}", file=file, line=number, hint="Close the quote.") from None
        if len(words) == 1:
            return words[0]
    return text
