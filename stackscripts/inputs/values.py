"""The Inputs 2.0 value grammar: text, cred, env, array, blank, ignore, inherit."""

from __future__ import annotations

import json
import re

from ..errors import BadInput
from ..model import InputValue

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SELF_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")  # env:NAME of the server itself: upper case, so env:db1 stays a mistake
CRED_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")
BARE_WORDS = ("blank", "ignore", "inherit")


def parse_value(raw: object, *, file: str | None = None, line: int | None = None,
                name: str | None = None) -> InputValue:
    """Parse one Inputs 2.0 string; errors name the file, line and input."""
    label = f"input {name}: " if name else ""

    def bad(message: str, hint: str) -> BadInput:
        return BadInput(label + message, file=file, line=line, hint=hint)

    if not isinstance(raw, str):
        raise bad(*_not_a_string(raw))
    if raw in BARE_WORDS:
        return InputValue(kind=raw)
    kind, sep, rest = raw.partition(":")
    if not sep:
        raise bad(f"invalid value {raw!r}",
                  f"Start it with a type: text:{raw} (or cred:NAME, env:SERVER:NAME, array:[...], blank, ignore, inherit).")
    if kind == "text":
        if rest == "":
            raise bad("'text:' with nothing after it", "Write blank for an empty value, or text:SOMETHING.")
        return InputValue(kind="text", text=rest)
    if kind == "cred":
        if not CRED_RE.match(rest):
            raise bad(f"invalid credential name {rest!r}",
                      "Write cred:NAME with letters, digits, '_', '-', '.' or '/'.")
        return InputValue(kind="cred", text=rest)
    if kind == "env":
        server, sep2, input_name = rest.partition(":")
        if not sep2 and SELF_RE.match(rest):  # env:NAME: a value of the server itself (RightScale's env:RS_UUID)
            return InputValue(kind="env", text=rest, server="")
        if not sep2 or not server or not NAME_RE.match(input_name):
            raise bad(f"invalid env reference {raw!r}",
                      "Write env:SERVER:NAME, e.g. env:db1:PRIVATE_IP, or env:NAME for the server itself "
                      "(env:PRIVATE_IP, env:RS_UUID).")
        return InputValue(kind="env", text=input_name, server=server)
    if kind == "array":
        try:
            items = json.loads(rest)
        except ValueError:
            items = None
        if not isinstance(items, list):
            raise bad(f"invalid array {rest!r}", 'Write array:["text:a","text:b"] (a JSON list of Inputs 2.0 strings).')
        for item in items:
            if not isinstance(item, str):
                raise bad(f"array item {json.dumps(item)} is not a string",
                          'Quote every item: array:["text:a","text:b"].')
        parsed = tuple(parse_value(i, file=file, line=line, name=name) for i in items)
        for item in parsed:
            if item.kind not in ("text", "cred", "env"):
                raise bad(f"array item {item.unparse()!r} is not allowed",
                          "Array items are text:, cred: or env: values.")
        return InputValue(kind="array", items=parsed)
    raise bad(f"unknown value type {kind!r} in {raw!r}",
              "Use text:, cred:, env:, array:, or the words blank, ignore, inherit.")


def _not_a_string(raw: object) -> tuple[str, str]:
    """Message and hint for a YAML value that is not a string (a number, a boolean, nothing, a list, a map)."""
    if raw is None:
        return ("has no value", "Write blank (an empty value), ignore (unset), inherit, or text:VALUE.")
    if isinstance(raw, list):
        return ("value is a YAML list, not an Inputs 2.0 string",
                'Write an array as one quoted string: \'array:["text:a","text:b"]\'.')
    if isinstance(raw, dict):
        return ("value is a YAML mapping, not an Inputs 2.0 string",
                "Write one string such as text:VALUE; quote it if it contains ': '.")
    shown = json.dumps(raw)
    kind = "a YAML boolean" if isinstance(raw, bool) else "a YAML number"
    return (f"value {shown} is {kind}, not an Inputs 2.0 string", f'Write "text:{shown}" (quoted in YAML).')


def check_name(name: object, *, file: str | None = None, line: int | None = None) -> str:
    """Input names become environment variables, so they must be valid ones."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise BadInput(f"invalid input name {name!r}", file=file, line=line,
                       hint="Input names are environment variable names: letters, digits and '_', e.g. DOCKER_PACKAGE.")
    return name


def display(value: InputValue | None) -> str:
    """A value as shown to people: secrets by reference only, never resolved."""
    if value is None:
        return "(unset)"
    return value.unparse()
