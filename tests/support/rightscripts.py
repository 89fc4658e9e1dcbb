"""Writing RightScripts for tests: the one place that knows what a script file looks like.

    block("RightScript Name: X", "Inputs: {}", body="echo hi\\n")      # metadata lines as given (malformed too)
    rightscript("Hello", "echo $WHO\\n", inputs={"WHO": "text:me", "TOKEN": None})
    write_rightscript(folder, "Hello", "echo hi\\n", attachments={"app.conf.j2": "port={{ PORT }}\\n"})

`inputs` maps a name to its default (an Inputs 2.0 value; None: required, no default; an `array:` default
makes an array input), or is YAML text written under `Inputs:` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

Inputs = Mapping[str, str | None] | str


def block(*lines: str, marker: str = "#", shebang: str | None = "#!/bin/bash", body: str = "") -> str:
    """A script whose metadata block holds `lines` (YAML, without the marker), then body."""
    out = [shebang] if shebang else []
    out.append(f"{marker} ---")
    out.extend(f"{marker} {line}".rstrip() for line in lines)
    out.append(f"{marker} ...")
    return "\n".join(out) + "\n" + body


def input_lines(inputs: Inputs | None) -> list[str]:
    """The `Inputs:` key and what is under it."""
    if isinstance(inputs, str):
        return ["Inputs:", *inputs.strip("\n").split("\n")] if inputs.strip() not in ("", "{}") else ["Inputs: {}"]
    if not inputs:
        return ["Inputs: {}"]
    lines = ["Inputs:"]
    for name, default in inputs.items():
        kind = "array" if default is not None and default.startswith("array:") else "single"
        lines += [f"  {name}:", f"    Input Type: {kind}", f"    Required: {'true' if default is None else 'false'}"]
        if default is not None:
            lines.append(f"    Default: {default}")
    return lines


def rightscript(name: str, body: str = "", *, inputs: Inputs | None = None, attachments: Sequence[str] = (),
                description: str | None = None, packages: Sequence[str] = (), shebang: str | None = "#!/bin/bash",
                marker: str = "#") -> str:
    """The text of a RightScript: shebang, metadata block, body."""
    lines = [f"RightScript Name: {name}"]
    if description is not None:
        lines.append(f"Description: {description}")
    if packages:
        lines.append(f"Packages: {' '.join(packages)}")
    lines += input_lines(inputs)
    if attachments:
        lines += ["Attachments:", *(f"- {a}" for a in attachments)]
    return block(*lines, marker=marker, shebang=shebang, body=body)


def stem_of(name: str) -> str:
    return name.lower().replace(" ", "-")


def write_rightscript(folder: Path, name: str, body: str = "", *, file: str | None = None,
                      attachments: Mapping[str, str | bytes] | Sequence[str] = (), **options: object) -> Path:
    """Write rightscript(...) as folder/FILE (default: the name in lower case with dashes, .sh) and each
    attachment given with content into folder/attachments/. Returns the script's path."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(attachments, Mapping):
        (folder / "attachments").mkdir(exist_ok=True)
        for attachment, content in attachments.items():
            target = folder / "attachments" / attachment
            target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
    path = folder / (file or f"{stem_of(name)}.sh")
    path.write_text(rightscript(name, body, attachments=list(attachments), **options))  # type: ignore[arg-type]
    return path
