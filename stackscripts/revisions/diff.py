"""The diff of two revisions of a library or template, as a frozen value (rendered by `difftext`).

What a reviewer needs before adopting a change to a shared script: scripts added, removed or moved per
phase; per changed script, its input changes (added, removed, Default, Required, Possible Values, Input
Type), attachment changes and a unified diff of its body; other files added, removed or changed; and for a
template, its own fields (Name, Description, each of its Inputs, each MultiCloud image's settings). Scripts
are matched by RightScript Name across the two revisions, so a renamed file is one change, not two.
The caller (`api`) reads the scripts of each tree with the catalog and hands them here as `Tree`s.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model import InputSpec, MultiCloudImage, Phase, Script, Template
from .manifest import Manifest


@dataclass(frozen=True)
class Tree:
    """One side: a revision's manifest, its scripts by manifest path, and (a template's) phases of those paths."""

    manifest: Manifest
    scripts: Mapping[str, Script] = field(default_factory=dict)
    phases: Mapping[Phase, tuple[str, ...]] = field(default_factory=dict)
    template: Template | None = None


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class InputChange:
    name: str
    kind: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class FileChange:
    """An attachment of a script, or another file of the tree: added, removed, changed (bytes) or mode."""

    path: str
    kind: str
    old_sha256: str | None = None
    new_sha256: str | None = None
    old_mode: int | None = None
    new_mode: int | None = None


@dataclass(frozen=True)
class ScriptChange:
    name: str
    old_path: str
    new_path: str
    fields: tuple[FieldChange, ...] = ()  # Description, Packages, interpreter
    inputs: tuple[InputChange, ...] = ()
    attachments: tuple[FileChange, ...] = ()
    body: str = ""  # a unified diff of the script's text; "" when the text is the same


@dataclass(frozen=True)
class Placed:
    name: str
    position: int  # 1-based, in its phase
    old_position: int | None = None  # for a moved script


@dataclass(frozen=True)
class PhaseChange:
    phase: Phase
    added: tuple[Placed, ...] = ()
    removed: tuple[Placed, ...] = ()
    moved: tuple[Placed, ...] = ()


@dataclass(frozen=True)
class Diff:
    old: str  # the revisions' digests
    new: str
    phases: tuple[PhaseChange, ...] = ()
    added: tuple[tuple[str, str], ...] = ()  # (script name, path)
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[ScriptChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    template: tuple[FieldChange, ...] = ()  # the template's own fields: Name, Inputs, images

    @property
    def empty(self) -> bool:
        return not (self.phases or self.added or self.removed or self.changed or self.files or self.template)


def _named(tree: Tree) -> dict[str, tuple[str, Script]]:
    """Scripts by name; a name given to two files is made unique with its path."""
    counts: dict[str, int] = {}
    for script in tree.scripts.values():
        counts[script.name] = counts.get(script.name, 0) + 1
    return {(s.name if counts[s.name] == 1 else f"{s.name} ({path})"): (path, s) for path, s in tree.scripts.items()}


def attachment_paths(path: str, script: Script) -> dict[str, str]:
    folder = posixpath.dirname(path)
    return {name: posixpath.join(folder, "attachments", name) for name in script.attachments}


def diff(old: Tree, new: Tree) -> Diff:
    a, b = _named(old), _named(new)
    changed = tuple(c for name in sorted(a.keys() & b.keys()) if (c := _script(name, old, new, *a[name], *b[name])))
    owned = {p for tree in (old, new) for path, s in tree.scripts.items()
             for p in (path, *attachment_paths(path, s).values())}
    paths = sorted(set(old.manifest.paths()) | set(new.manifest.paths()))
    files = tuple(c for c in _files(old.manifest, new.manifest, paths)
                  if c.path not in owned or None not in (c.old_mode, c.new_mode) and c.old_mode != c.new_mode)
    return Diff(
        old=old.manifest.digest, new=new.manifest.digest,
        phases=tuple(p for phase in Phase if (p := _phase(phase, old, new))),
        added=tuple((n, b[n][0]) for n in sorted(b.keys() - a.keys())),
        removed=tuple((n, a[n][0]) for n in sorted(a.keys() - b.keys())),
        changed=changed, files=files, template=_template(old.template, new.template),
    )


def _template(a: Template | None, b: Template | None) -> tuple[FieldChange, ...]:
    """Field by field: Name, Description, each input override, each image's settings per cloud."""
    if a is None or b is None:
        return ()
    old, new = _template_fields(a), _template_fields(b)
    keys = sorted(dict.fromkeys([*new, *old]), key=lambda k: 1 if k.startswith("input ") else 2 if k.startswith("image ")
                  else 0)  # stable: Name, Description; inputs by name; images in the new order, then removed ones
    return tuple(FieldChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k))


def _template_fields(template: Template) -> dict[str, str | None]:
    out: dict[str, str | None] = {"Name": template.name, "Description": template.description}
    out.update((f"input {name}", value) for name, value in sorted(template.inputs.items()))
    for position, image in enumerate(template.images, 1):
        out.update(_image_fields(image, position))
    return out


def _image_fields(image: MultiCloudImage, position: int) -> dict[str, str | None]:
    head = f"image {image.name}"
    out: dict[str, str | None] = {head: f"#{position}" + (" (default)" if position == 1 else ""),
                                  f"{head}: Description": image.description}
    for s in image.settings:
        cloud = f"{head}, cloud {s.cloud}{' ' + s.region if s.region else ''}"
        volumes = ", ".join(f"{v.name} {v.size_gb} GB{'' if v.ephemeral else ' kept'}" for v in s.volumes)
        out.update({f"{cloud}: Image": s.image, f"{cloud}: Instance Type": s.instance_type,
                    f"{cloud}: SSH User": s.ssh_user, f"{cloud}: Volumes": volumes or None})
    return out


def _names(tree: Tree, phase: Phase) -> list[str]:
    return [tree.scripts[p].name if p in tree.scripts else p for p in tree.phases.get(phase, ())]


def _phase(phase: Phase, old: Tree, new: Tree) -> PhaseChange | None:
    before, after = _names(old, phase), _names(new, phase)
    deleted: list[tuple[int, str]] = []
    inserted: list[tuple[int, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal":
            deleted += [(i, before[i]) for i in range(i1, i2)]
            inserted += [(j, after[j]) for j in range(j1, j2)]
    moved, removed = [], []
    for i, name in deleted:
        match = next((item for item in inserted if item[1] == name), None)
        if match:
            inserted.remove(match)
            moved.append(Placed(name, match[0] + 1, i + 1))
        else:
            removed.append(Placed(name, i + 1))
    if not (moved or removed or inserted):
        return None
    return PhaseChange(phase, tuple(Placed(n, j + 1) for j, n in inserted), tuple(removed),
                       tuple(sorted(moved, key=lambda p: p.position)))


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


INPUT_FIELDS = (("Input Type", "input_type"), ("Required", "required"), ("Default", "default"),
                ("Possible Values", "possible_values"), ("Category", "category"), ("Description", "description"),
                ("Advanced", "advanced"))


def _fields(pairs: tuple[tuple[str, str], ...], a: object, b: object) -> tuple[FieldChange, ...]:
    out = []
    for label, attr in pairs:
        x, y = _text(getattr(a, attr)), _text(getattr(b, attr))
        if x != y:
            out.append(FieldChange(label, x, y))
    return tuple(out)


def _inputs(a: tuple[InputSpec, ...], b: tuple[InputSpec, ...]) -> tuple[InputChange, ...]:
    old, new = {i.name: i for i in a}, {i.name: i for i in b}
    out = [InputChange(i.name, "removed") for i in a if i.name not in new]
    for spec in b:
        if spec.name not in old:
            out.append(InputChange(spec.name, "added", _fields(INPUT_FIELDS, InputSpec(spec.name), spec)))
        elif fields := _fields(INPUT_FIELDS, old[spec.name], spec):
            out.append(InputChange(spec.name, "changed", fields))
    return tuple(out)


def _script(name: str, old: Tree, new: Tree, a_path: str, a: Script, b_path: str, b: Script) -> ScriptChange | None:
    fields = _fields((("Description", "description"), ("Packages", "packages"), ("Interpreter", "shebang")), a, b)
    a_files, b_files = attachment_paths(a_path, a), attachment_paths(b_path, b)
    attachments = []
    for attachment in sorted(a_files.keys() | b_files.keys()):
        x = old.manifest.get(a_files[attachment]) if attachment in a_files else None
        y = new.manifest.get(b_files[attachment]) if attachment in b_files else None
        x_sha, y_sha = (x.sha256 if x else None), (y.sha256 if y else None)
        if attachment not in a_files:
            kind = "added"
        elif attachment not in b_files:
            kind = "removed"
        elif x_sha != y_sha:
            kind = "changed"
        else:
            continue
        attachments.append(FileChange(attachment, kind, x_sha, y_sha))
    body = "".join(difflib.unified_diff(_lines(a.text), _lines(b.text), f"a/{a_path}", f"b/{b_path}"))
    change = ScriptChange(name, a_path, b_path, fields, _inputs(a.inputs, b.inputs), tuple(attachments), body)
    if a_path == b_path and not (fields or change.inputs or attachments or body):
        return None
    return change


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _files(a: Manifest, b: Manifest, paths: list[str]) -> list[FileChange]:
    out = []
    for path in paths:
        x, y = a.get(path), b.get(path)
        if x is None and y is not None:
            out.append(FileChange(path, "added", new_sha256=y.sha256, new_mode=y.mode))
        elif y is None and x is not None:
            out.append(FileChange(path, "removed", old_sha256=x.sha256, old_mode=x.mode))
        elif x is not None and y is not None and x.sha256 != y.sha256:
            out.append(FileChange(path, "changed", x.sha256, y.sha256, x.mode, y.mode))
        elif x is not None and y is not None and x.mode != y.mode:
            out.append(FileChange(path, "mode", x.sha256, y.sha256, x.mode, y.mode))
    return out
