"""Load one script file into a Script value: metadata, interpreter and content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import BadInput
from ..model import Script
from . import metadata, udf

SCRIPT_SUFFIXES = (".sh", ".bash", ".py", ".rb", ".pl", ".ps1", ".js")


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput("no such script file", file=str(path), hint="Check the path.") from None
    except IsADirectoryError:
        raise BadInput("is a folder, not a script", file=str(path), hint="Name a script file.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInput("the script is not UTF-8 text", file=str(path), line=line,
                       hint="Save it as UTF-8.") from None


def shebang_of(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("#!") else None


def content_hash(text: str, attach_dir: Path, attachments: tuple[str, ...]) -> str:
    """sha256 over the script body and each attachment (name and bytes); missing ones count as missing."""
    digest = hashlib.sha256()
    body = text.encode("utf-8")
    digest.update(b"script\0%d\0" % len(body) + body)
    for name in sorted(attachments):
        try:
            data = (attach_dir / name).read_bytes()
            digest.update(b"attachment\0%s\0%d\0" % (name.encode(), len(data)) + data)
        except OSError:
            digest.update(b"missing\0%s\0" % name.encode())
    return digest.hexdigest()


def load_script(path: Path | str, library: str | None = None, *, require_metadata: bool = True) -> Script:
    """Parse a script file; a file with neither a metadata block nor UDF tags is an error."""
    path = Path(path)
    text = read_text(path)
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
