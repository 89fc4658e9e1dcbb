"""A `Diff` as text for a review (what the CLI prints) and as JSON data (what `--json` carries).

Both are stable: tests/golden/diff/ holds both for a set of library revisions.
"""

from __future__ import annotations

from typing import Any

from .diff import Diff, FileChange, InputChange, ScriptChange

_MARK = {"added": "+", "removed": "-", "changed": "~", "mode": "~"}


def render(diff: Diff) -> str:
    """Readable text: a heading per part, one line per change, script bodies as unified diffs."""
    out = [f"diff {diff.old} {diff.new}"]
    if diff.empty:
        return out[0] + "\nno changes\n"
    for change in diff.phases:
        out.append(f"\n{change.phase.value}:")
        out += [f"  + {p.name} (step {p.position})" for p in change.added]
        out += [f"  - {p.name} (was step {p.position})" for p in change.removed]
        out += [f"  ~ {p.name} moved from step {p.old_position} to step {p.position}" for p in change.moved]
    if diff.added or diff.removed or diff.changed:
        out.append("\nscripts:")
        out += [f"  + {name} ({path})" for name, path in diff.added]
        out += [f"  - {name} ({path})" for name, path in diff.removed]
        for script in diff.changed:
            out += _script(script)
    if diff.template:
        out.append("\ntemplate:")
        out += [f"  + {f.field}: {_value(f.new)}" if f.old is None else f"  - {f.field} (was {_value(f.old)})"
                if f.new is None else f"  ~ {f.field}: {_value(f.old)} -> {_value(f.new)}" for f in diff.template]
    if diff.files:
        out.append("\nfiles:")
        out += [f"  {_MARK[f.kind]} {f.path}{_file_detail(f)}" for f in diff.files]
    return "\n".join(out) + "\n"


def _script(change: ScriptChange) -> list[str]:
    where = change.new_path if change.old_path == change.new_path else f"{change.old_path} -> {change.new_path}"
    out = [f"  ~ {change.name} ({where})"]
    out += [f"      {f.field}: {_value(f.old)} -> {_value(f.new)}" for f in change.fields]
    out += _inputs(change.inputs)
    out += [f"      attachment {a.kind}: {a.path}{_sha_detail(a)}" for a in change.attachments]
    if change.body:
        out += ["      " + line if line else "" for line in change.body.rstrip("\n").split("\n")]
    return out


def _inputs(changes: tuple[InputChange, ...]) -> list[str]:
    out = []
    for change in changes:
        if change.kind == "removed":
            out.append(f"      input {change.name} removed")
            continue
        if change.kind == "added":
            detail = ", ".join(f"{f.field} {_value(f.new)}" for f in change.fields)
            out.append(f"      input {change.name} added" + (f" ({detail})" if detail else ""))
            continue
        out += [f"      input {change.name}: {f.field} {_value(f.old)} -> {_value(f.new)}" for f in change.fields]
    return out


def _value(text: str | None) -> str:
    return "(none)" if text is None else repr(text) if text == "" or text != text.strip() else text


def _sha_detail(change: FileChange) -> str:
    if change.old_sha256 and change.new_sha256:
        return f" ({change.old_sha256[:12]} -> {change.new_sha256[:12]})"
    return ""


def _file_detail(change: FileChange) -> str:
    mode = ""
    if change.old_mode is not None and change.new_mode is not None and change.old_mode != change.new_mode:
        mode = f" (mode {change.old_mode:04o} -> {change.new_mode:04o})"
    return (_sha_detail(change) if change.kind == "changed" else "") + mode


def to_json(diff: Diff) -> dict[str, Any]:
    """Plain JSON data: lists and strings, modes as '0644'."""
    return {
        "old": diff.old, "new": diff.new, "empty": diff.empty,
        "phases": [{"phase": p.phase.value,
                    "added": [{"name": x.name, "position": x.position} for x in p.added],
                    "removed": [{"name": x.name, "position": x.position} for x in p.removed],
                    "moved": [{"name": x.name, "from": x.old_position, "to": x.position} for x in p.moved]}
                   for p in diff.phases],
        "scripts": {
            "added": [{"name": n, "path": p} for n, p in diff.added],
            "removed": [{"name": n, "path": p} for n, p in diff.removed],
            "changed": [_script_json(c) for c in diff.changed],
        },
        "files": [_file_json(f) for f in diff.files],
        "template": [{"field": f.field, "old": f.old, "new": f.new} for f in diff.template],
    }


def _script_json(change: ScriptChange) -> dict[str, Any]:
    return {
        "name": change.name, "old_path": change.old_path, "new_path": change.new_path,
        "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in change.fields],
        "inputs": [{"name": i.name, "kind": i.kind, "fields": [{"field": f.field, "old": f.old, "new": f.new}
                                                               for f in i.fields]} for i in change.inputs],
        "attachments": [_file_json(a) for a in change.attachments],
        "body": change.body,
    }


def _file_json(change: FileChange) -> dict[str, Any]:
    return {"path": change.path, "kind": change.kind, "old_sha256": change.old_sha256,
            "new_sha256": change.new_sha256,
            "old_mode": None if change.old_mode is None else f"{change.old_mode:04o}",
            "new_mode": None if change.new_mode is None else f"{change.new_mode:04o}"}
