"""The lock file beside a template: each library reference pinned to a revision, in YAML a reviewer reads.

`servertemplates/app.yaml` is locked by `servertemplates/app.lock.yaml` (docs/sharing.md, "The lock file"):

    # Written by 'stackscripts templates lock'. ...
    lock: 1
    template: app.yaml
    scripts:
      acme/base/install-docker@1.4:
        library: acme/base
        source: git+https://git.example/acme/base.git
        requested: "1.4"
        resolved: 5b1e0c...        (the git commit, the OCI or S3 version)
        digest: sha256:9f1c...     (the library revision: its manifest's digest)
        path: install-docker.sh    (the script in that revision's tree)

`check` says, with the file and line to fix, how a lock no longer matches its template and project file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import files, yamlsrc
from ..errors import BadInput
from .manifest import is_digest, path_problem

VERSION = 1
TOP_KEYS = ("lock", "template", "scripts")
ENTRY_KEYS = ("library", "source", "requested", "resolved", "digest", "path")
_PLAIN = re.compile(r"[A-Za-z0-9_./+~-][A-Za-z0-9_./:@+~ -]*")


def lock_path(template: Path | str) -> Path:
    """T.yaml (or T.yml) -> T.lock.yaml beside it."""
    template = Path(template)
    return template.with_name(template.stem + ".lock.yaml")


@dataclass(frozen=True)
class LockEntry:
    reference: str
    library: str
    source: str
    requested: str
    resolved: str
    digest: str
    path: str
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Want:
    """What the template and project file ask for one reference now (compared with the lock by `check`)."""

    reference: str
    library: str
    source: str
    requested: str
    line: int | None = None


@dataclass(frozen=True)
class Lock:
    template: str
    entries: tuple[LockEntry, ...] = ()
    file: str | None = field(default=None, compare=False)
    template_line: int | None = field(default=None, compare=False)

    def get(self, reference: str) -> LockEntry | None:
        return next((e for e in self.entries if e.reference == reference), None)

    def sorted(self) -> Lock:
        return Lock(self.template, tuple(sorted(self.entries, key=lambda e: e.reference)), self.file)


def scalar(text: str) -> str:
    """Plain YAML when it reads back as the same text, else a JSON string (valid YAML, always exact)."""
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and " #" not in text:
        try:
            if yamlsrc.load(text, "<value>") == text:
                return text
        except BadInput:
            pass
    return json.dumps(text, ensure_ascii=False)


def dump(lock: Lock) -> str:
    out = [f"# Written by 'stackscripts templates lock' for {lock.template}: every library reference of the",
           "# template pinned to a revision (digest). Review it like code; update it with",
           "# 'stackscripts templates lock TEMPLATE --update [SCRIPT]', not by hand.",
           f"lock: {VERSION}", f"template: {scalar(lock.template)}"]
    entries = lock.sorted().entries
    out.append("scripts:" if entries else "scripts: {}")
    for entry in entries:
        out.append(f"  {scalar(entry.reference)}:")
        out += [f"    {key}: {scalar(getattr(entry, key))}" for key in ENTRY_KEYS]
    return "\n".join(out) + "\n"


def load(path: Path | str) -> Lock:
    file = str(path)
    return loads(files.read_text(path, "lock file", hint="Name the T.lock.yaml file beside the template."), file)


def loads(text: str, file: str) -> Lock:
    data = yamlsrc.load(text, file)
    if not isinstance(data, dict):
        raise BadInput("a lock file must be a YAML mapping", file=file, line=yamlsrc.line_of(data) or 1,
                       hint="Delete it and run 'stackscripts templates lock TEMPLATE' to write it again.")
    _keys(data, TOP_KEYS, file, "lock file")
    if data.get("lock") != VERSION:
        raise _bad(f"'lock: {VERSION}' expected, not {data.get('lock')!r}", file, data, "lock",
                   "This lock file was written by another version of stackscripts, or edited by hand.")
    template = data.get("template")
    if not isinstance(template, str) or not template:
        raise _bad("'template' must name the template file", file, data, "template")
    scripts = data.get("scripts")
    if scripts is None:
        scripts = {}
    if not isinstance(scripts, dict):
        raise _bad("'scripts' must map references to their pins", file, data, "scripts")
    entries = tuple(_entry(ref, value, file, yamlsrc.line_of(scripts, ref)) for ref, value in scripts.items())
    return Lock(template, entries, file, yamlsrc.line_of(data, "template"))


def _entry(reference: Any, raw: Any, file: str, line: int | None) -> LockEntry:
    if not isinstance(raw, dict):
        raise BadInput(f"{reference}: a pin must be a mapping of {', '.join(ENTRY_KEYS)}", file=file, line=line)
    _keys(raw, ENTRY_KEYS, file, f"pin {reference}")
    values = {}
    for key in ENTRY_KEYS:
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            raise _bad(f"{reference}: '{key}' must be text", file, raw, key if key in raw else None,
                       f"Every pin has {', '.join(ENTRY_KEYS)}.")
        values[key] = value
    if not is_digest(values["digest"]):
        raise _bad(f"{reference}: digest {values['digest']!r} is not sha256:<64 hex digits>", file, raw, "digest")
    if path_problem(values["path"]):
        raise _bad(f"{reference}: path {values['path']!r} is not a path in a tree", file, raw, "path")
    return LockEntry(str(reference), line=line, **values)


def check(lock: Lock, wants: Sequence[Want], template_file: str) -> None:
    """BadInput when the lock no longer matches what the template and project file ask for."""
    lock_file = lock.file or str(lock_path(template_file))
    fix = f"Run 'stackscripts templates lock {template_file}' to update the lock file, then review its diff."
    if lock.template != Path(template_file).name:
        raise BadInput(f"this lock file is for {lock.template!r}, not {Path(template_file).name!r}", file=lock_file,
                       line=lock.template_line, hint=fix)
    wanted = {w.reference for w in wants}
    for want in wants:
        if lock.get(want.reference) is None:
            same = [e for e in lock.entries if e.reference not in wanted
                    and e.reference.partition("@")[0] == want.reference.partition("@")[0]]
            was = f" (the lock pins {same[0].reference} at {lock_file}:{same[0].line})" if same else ""
            raise BadInput(f"{want.reference} is not in the lock file {lock_file}{was}", file=template_file,
                           line=want.line, hint=fix)
    for entry in lock.entries:
        if entry.reference not in wanted:
            raise BadInput(f"the lock pins {entry.reference}, which {template_file} no longer uses", file=lock_file,
                           line=entry.line, hint=fix)
    for want in wants:
        pinned = lock.get(want.reference)
        assert pinned is not None
        for key, now in (("library", want.library), ("source", want.source), ("requested", want.requested)):
            if getattr(pinned, key) != now:
                raise BadInput(f"{pinned.reference}: the lock has {key} {getattr(pinned, key)!r}, and the template "
                               f"and project file now ask for {now!r}", file=lock_file, line=pinned.line, hint=fix)
        if is_digest(want.requested) and pinned.digest != want.requested:
            raise BadInput(f"{pinned.reference}: the lock pins {pinned.digest}, not the digest it names",
                           file=lock_file, line=pinned.line, hint=fix)


def _keys(data: dict[str, Any], allowed: tuple[str, ...], file: str, what: str) -> None:
    for key in data:
        if key not in allowed:
            raise _bad(f"{what}: unknown key {key!r}", file, data, key, "Allowed keys: " + ", ".join(allowed) + ".")


def _bad(message: str, file: str, container: Any, key: Any = None, hint: str | None = None) -> BadInput:
    return BadInput(message, file=file, line=yamlsrc.line_of(container, key), hint=hint)
