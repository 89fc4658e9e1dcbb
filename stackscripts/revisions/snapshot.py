"""A template revision as a tree of files: the template and everything it uses, content-addressed.

    template.yaml                                   the template; each step names its script by its tree path
    scripts/install-docker/install-docker.sh        one folder per script (its attachments/ beside it)
    scripts/install-docker/attachments/daemon.json

`build` makes the tree from values handed in by `api` (the template as parsed YAML, each step's script key,
timeout, retries and stage, each script's bytes and attachment bytes); the `Manifest` digest of the tree is the
revision. Nothing machine-specific enters it: no absolute path, time, owner or mode from disk (scripts are 0755,
the rest 0644: bundles set their own modes), and the template is written in one canonical form (keys in the
order of the format, script references as tree paths, steps without defaults), so the same content gives the
same revision on every machine. Loading `template.yaml` from a materialised tree needs nothing outside it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import yamlsrc
from ..errors import BadInput
from ..model import Phase
from .manifest import Manifest, entry_of, path_problem

TEMPLATE = "template.yaml"
SCRIPTS = "scripts"
TOP_KEYS = ("Name", "Description", "Inputs", "MultiCloudImages", "Alerts")  # RightScripts is written from steps
_PLAIN = re.compile(r"[A-Za-z0-9_./+~(][A-Za-z0-9_./:@+~(),'=-]*(?: [A-Za-z0-9_./:@+~(),'=-]+)*")
_UNSAFE = re.compile("[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class ScriptFiles:
    """One script of the template: its file name, its bytes as they run and its attachments' bytes."""

    filename: str
    data: bytes
    attachments: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One step of a phase: the key of its script in `build`'s scripts, and its Timeout, Retries and Stage."""

    script: str
    timeout: float | None = None
    retries: int = 0
    stage: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """The tree: its files (path -> bytes), their manifest, each phase's script paths, and each script key's path."""

    files: Mapping[str, bytes]
    manifest: Manifest
    phases: Mapping[Phase, tuple[str, ...]]
    paths: Mapping[str, str]

    @property
    def digest(self) -> str:
        return self.manifest.digest


def build(template: Mapping[str, Any], steps: Mapping[Phase, Sequence[Step]],
          scripts: Mapping[str, ScriptFiles]) -> Snapshot:
    """The tree of a template whose steps are resolved to scripts (`steps` in phase order, keys into `scripts`)."""
    paths = script_paths(steps, scripts)
    files: dict[str, bytes] = {}
    for key, path in paths.items():
        files[path] = scripts[key].data
        folder = posixpath.dirname(path)
        for name, data in sorted(scripts[key].attachments.items()):
            where = f"{folder}/attachments/{name}"
            if path_problem(where):
                raise BadInput(f"attachment name {name!r} cannot be part of a revision: {path_problem(where)}",
                               hint="Rename the attachment to a plain file name.")
            files[where] = data
    phases = {phase: tuple(paths[s.script] for s in steps.get(phase, ())) for phase in Phase}
    files[TEMPLATE] = template_yaml(template, steps, paths).encode("utf-8")
    manifest = Manifest.of(entry_of(path, data, executable=path in paths.values()) for path, data in files.items())
    return Snapshot(files, manifest, {p: v for p, v in phases.items() if v}, paths)


def script_paths(steps: Mapping[Phase, Sequence[Step]], scripts: Mapping[str, ScriptFiles]) -> dict[str, str]:
    """Each script's tree path, `scripts/STEM/FILE`, in order of first use; a stem used twice gets -2, -3..."""
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for phase in Phase:
        for step in steps.get(phase, ()):
            if step.script in paths:
                continue
            filename = _safe_name(scripts[step.script].filename)
            stem = filename.rsplit(".", 1)[0] if "." in filename[1:] else filename
            folder, n = stem, 1
            while folder in taken:
                n += 1
                folder = f"{stem}-{n}"
            taken.add(folder)
            paths[step.script] = f"{SCRIPTS}/{folder}/{filename}"
    return paths


def _safe_name(name: str) -> str:
    name = re.sub(r"[\0\n\r/]", "_", name) or "script"
    return "_" + name[1:] if name.startswith(".") else name


def template_yaml(template: Mapping[str, Any], steps: Mapping[Phase, Sequence[Step]], paths: Mapping[str, str]) -> str:
    """The template in canonical form, each step's script named by its tree path."""
    data: dict[str, Any] = {key: template[key] for key in TOP_KEYS[:3] if template.get(key) not in (None, {}, "")}
    phases: dict[str, Any] = {}
    for phase in Phase:
        entries = [_entry(step, paths[step.script]) for step in steps.get(phase, ())]
        if entries:
            phases[phase.value] = entries
    data["RightScripts"] = phases
    data.update((key, template[key]) for key in TOP_KEYS[3:] if template.get(key) not in (None, []))
    return dump(data)


def _entry(step: Step, path: str) -> Any:
    extra: dict[str, Any] = {}
    if step.timeout is not None:
        extra["Timeout"] = int(step.timeout) if float(step.timeout).is_integer() else step.timeout
    if step.retries:
        extra["Retries"] = step.retries
    if step.stage:
        extra["Stage"] = step.stage
    return {"Script": path, **extra} if extra else path


# -- a small YAML writer: block style, one canonical spelling of every value (PyYAML reads it back the same)

def dump(data: Mapping[str, Any]) -> str:
    return "\n".join(_mapping(data, 0)) + "\n"


def _mapping(data: Mapping[str, Any], indent: int) -> list[str]:
    pad, out = " " * indent, []
    if not data:
        return [pad + "{}"]
    for key, value in data.items():
        head = f"{pad}{_scalar(str(key), None)}:"
        if isinstance(value, Mapping) and value:
            out += [head, *_mapping(value, indent + 2)]
        elif isinstance(value, list | tuple) and value:
            out += [head, *_sequence(value, indent)]
        else:
            out.append(f"{head} {_scalar(value, indent + 2)}")
    return out


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    pad, out = " " * indent, []
    for item in items:
        if isinstance(item, Mapping) and item:
            lines = _mapping(item, indent + 2)
        elif isinstance(item, list | tuple) and item:
            lines = _sequence(item, indent + 2)
        else:
            out.append(f"{pad}- {_scalar(item, indent + 2)}")
            continue
        out += [f"{pad}- {lines[0].lstrip()}", *lines[1:]]
    return out


def _scalar(value: Any, indent: int | None) -> str:
    """One value as YAML; multi-line text as a literal block indented by `indent` when that reads back the same
    (indent None: a key, on one line)."""
    if indent is not None and isinstance(value, str) and "\n" in value.rstrip("\n") and _literal_ok(value):
        return _literal(value, indent)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = _float(value)
    elif isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and ": " not in value and not value.endswith(":")
        text = value if plain else _quoted(value)
    else:
        raise BadInput(f"a template value of type {type(value).__name__} cannot be part of a revision",
                       hint="Write it as text, a number, true/false or null.")
    if text == value and _reads_back(text) != value:  # plain text YAML reads as something else: 'yes', '1.0'...
        text = _quoted(value)
    elif isinstance(value, float) and _reads_back(text) != value and value == value:
        raise BadInput(f"the number {value!r} cannot be written back exactly", hint="Write it as text.")
    return text


def _literal_ok(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    if _UNSAFE.search(text.replace("\n", "")) or "\r" in text or "\t" in text or not lines[0] or lines[0][0] in " #":
        return False
    if any(line != line.rstrip(" ") for line in lines):
        return False
    return bool(_reads_back("k: " + _literal(text, 2) + "\n") == {"k": text})


def _literal(text: str, indent: int) -> str:
    body = text.rstrip("\n")
    chomp = {0: "-", 1: ""}.get(len(text) - len(body), "+")
    pad = " " * indent
    return f"|{chomp}" + "".join(f"\n{pad}{line}" if line else "\n" for line in body.split("\n")) + (
        "\n" * (len(text) - len(body) - 1) if chomp == "+" else "")


def _float(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    return text.replace("e", ".0e", 1) if "e" in text and "." not in text else text


def _quoted(text: str) -> str:
    """A JSON string, which YAML reads as a double-quoted scalar; characters YAML refuses or folds escaped."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _reads_back(text: str) -> Any:
    try:
        return yamlsrc.load(text, "<value>")
    except BadInput:
        return None
