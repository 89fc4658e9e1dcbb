"""Linode StackScript <UDF .../> tags, read as inputs."""

from __future__ import annotations

import html
import json
import re

from ..errors import BadInput
from ..inputs.values import check_name
from ..model import InputSpec

_TAG = re.compile(r"<UDF\b(?P<attrs>[^>]*?)/?>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_KNOWN = {"name", "label", "default", "example", "oneof", "manyof"}


def parse_udf(text: str, file: str) -> tuple[InputSpec, ...]:
    """Inputs declared by UDF tags: no default means required; a name with 'password' is a secret."""
    specs: list[InputSpec] = []
    seen: set[str] = set()
    for match in _TAG.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(match.group("attrs"))}
        unknown = set(attrs) - _KNOWN
        if unknown:
            raise BadInput(f"UDF tag: unknown attribute {sorted(unknown)[0]!r}", file=file, line=line,
                           hint="UDF attributes are name, label, default, example, oneOf, manyOf.")
        name = attrs.get("name")
        if not name:
            raise BadInput("UDF tag without a name", file=file, line=line, hint='Write <UDF name="MY_INPUT" label="..." />.')
        check_name(name, file=file, line=line)
        if name in seen:
            raise BadInput(f"UDF {name} declared twice", file=file, line=line, hint="Declare each UDF once.")
        seen.add(name)
        choices = attrs.get("oneof") or attrs.get("manyof")
        possible = tuple(f"text:{c.strip()}" for c in choices.split(",") if c.strip()) if choices else None
        default = attrs.get("default")
        if default and attrs.get("manyof"):  # a manyOf default is a comma-separated list: an array value
            default_value = "array:" + json.dumps([f"text:{d.strip()}" for d in default.split(",") if d.strip()])
        else:
            default_value = f"text:{default}" if default else "blank"
        description = attrs.get("label")
        if attrs.get("example"):
            description = f"{description or name} (example: {attrs['example']})"
        specs.append(InputSpec(
            name=name,
            description=description,
            input_type="array" if attrs.get("manyof") else "single",
            required="default" not in attrs,
            default=default_value if "default" in attrs else None,
            possible_values=possible,
            line=line,
            secret_hint="password" in name.lower(),
        ))
    return tuple(specs)
