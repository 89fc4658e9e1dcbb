"""Load one script file into a Script value: metadata, interpreter and content hash."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .. import files
from ..errors import BadInput
from ..model import Script
from . import metadata, udf

SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".rb", ".pl", ".ps1", ".js")
_TEMPLATE_KEY = re.compile(r"^(RightScripts|MultiCloudImages)\s*:", re.MULTILINE)
_DEPLOYMENT_KEY = re.compile(r"^Servers\s*:", re.MULTILINE)


def read_text(path: Path) -> str:
    """The script's text: a regular UTF-8 file (a FIFO, device or symlink loop is bad input)."""
    if not path.exists() and not path.is_symlink():
        raise BadInput("no such script file", file=str(path), hint="Check the path.")
    return files.read_text(path, "script", hint="Name a script file.")


def yaml_kind(path: Path, text: str) -> tuple[str, int] | None:
    """("ServerTemplate" | "deployment", line of its telling key) for such a YAML file; None for anything else."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return None
    for kind, key in (("ServerTemplate", _TEMPLATE_KEY), ("deployment", _DEPLOYMENT_KEY)):
        found = key.search(text)
        if found:
            return kind, text.count("\n", 0, found.start()) + 1
    return None


def not_a_script(path: Path, kind: tuple[str, int], doing: str) -> BadInput:
    """The error for a ServerTemplate or deployment YAML given where a script is expected, saying which it is."""
    what = {"ServerTemplate": f"check it with 'stackscripts templates validate {path}'",
            "deployment": f"launch it with 'stackscripts deploy {path}'"}[kind[0]]
    return BadInput(f"this is a {kind[0]}, not a script, and {doing}", file=str(path), line=kind[1],
                    hint=f"Name a script file (.sh, .py...) instead; {what}.")


def shebang_of(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("#!") else None


def content_hash(text: str, attach_dir: Path, attachments: tuple[str, ...]) -> str:
    """sha256 over the script body and each attachment (name and bytes); missing ones count as missing."""
    digest = hashlib.sha256()
    body = text.encode("utf-8")
    digest.update(b"script\0%d\0" % len(body) + body)
    for name in sorted(attachments):
        path = attach_dir / name
        if os.path.lexists(path):
            data = files.read_bytes(path, "attachment")  # a FIFO or a loop is bad input, not a hang
            digest.update(b"attachment\0%s\0%d\0" % (name.encode(), len(data)) + data)
        else:
            digest.update(b"missing\0%s\0" % name.encode())
    return digest.hexdigest()


def load_script(path: Path | str, library: str | None = None, *, require_metadata: bool = True) -> Script:
    """Parse a script file; a file with neither a metadata block nor UDF tags is an error."""
    path = Path(path)
    text = read_text(path)
    kind = yaml_kind(path, text)
    if kind is not None:
        raise not_a_script(path, kind, "a script is expected here")
    if require_metadata and not text.strip():
        raise BadInput("the script is empty", file=str(path), line=1,
                       hint=f"Write its commands, then run 'stackscripts scripts scaffold {path}' to add the metadata block.")
    parsed = metadata.parse(text, str(path))
    if parsed is not None:
        meta, _ = parsed
        return Script(
            name=meta.name, path=path, text=text, inputs=meta.inputs, description=meta.description,
            packages=meta.packages, attachments=meta.attachments, shebang=shebang_of(text),
            sha256=content_hash(text, path.parent / "attachments", meta.attachments), library=library,
        )
    udf_inputs = udf.parse_udf(text, str(path))
    if udf_inputs or not require_metadata:
        return Script(
            name=path.stem, path=path, text=text, inputs=udf_inputs, shebang=shebang_of(text),
            sha256=content_hash(text, path.parent / "attachments", ()), library=library,
            dialect="udf" if udf_inputs else "none",
        )
    raise BadInput("no RightScript metadata block", file=str(path), line=1,
                   hint=f"Run 'stackscripts scripts scaffold {path}' to write one.")


def missing_attachments(script: Script) -> list[str]:
    return [a for a in script.attachments if not (script.attach_dir / a).is_file()]


def attachment_line(script: Script, name: str) -> int | None:
    """The line of the metadata block that lists an attachment (its '- name' item, else 'Attachments:')."""
    fallback = None
    for number, line in enumerate(script.text.split("\n"), 1):
        body = metadata.comment_text(line)
        if body is None:
            continue
        item = body.strip()
        if item.startswith("-") and item[1:].strip().strip("'\"") == name:
            return number
        if item.startswith("Attachments:") and fallback is None:
            fallback = number
    return fallback
