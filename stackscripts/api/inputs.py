"""Input values for Python callers: a mapping of plain strings and typed values, or `NAME=text:v` strings.

    c.boot("web1", "app.yml", inputs={"GREETING": "hello", "DB_PASSWORD": Cred("db-password")})
    c.boot("web1", "app.yml", inputs=["GREETING=text:hello", "DB_PASSWORD=cred:db-password"])

In a mapping a plain string is the text itself, byte-exact: `{"X": "cred:y"}` is the text "cred:y",
never a credential reference (use `Cred("y")` for that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ..errors import BadInput
from ..inputs.resolve import Layer, parse_assignments
from ..inputs.values import check_name, parse_value
from ..model import InputValue

InputArg = str | InputValue
"""One input's value: a plain string (its text) or a typed value (`Text`, `Cred`, `Env`, `Array`, `BLANK`...)."""

Inputs = Mapping[str, InputArg] | Sequence[str]
"""Inputs given by a caller: {"NAME": value} or ["NAME=text:value", ...] as the CLI's -i takes them."""

BLANK = InputValue("blank")  # an empty value
IGNORE = InputValue("ignore")  # unset: the step gets no such variable
INHERIT = InputValue("inherit")  # take the value from the level below (template, script default)

SOURCE = "command line"  # the highest precedence, as -i


def Text(value: str) -> InputValue:
    """A text value, passed to the step byte-exact."""
    return checked(InputValue("text", value))


def Cred(name: str) -> InputValue:
    """A credential by name: fetched when the step runs, never stored or printed in clear."""
    return checked(InputValue("cred", name))


def Env(server: str, name: str) -> InputValue:
    """A value of another server in the same store, e.g. `Env("db1", "PRIVATE_IP")`; server "" is the server
    itself (`Env("", "PRIVATE_IP")`, RightScale's env:NAME)."""
    return checked(InputValue("env", name, server=server))


def Array(*items: InputArg) -> InputValue:
    """An array input: each item a plain string (text) or a `Text`, `Cred` or `Env` value."""
    return checked(InputValue("array", items=tuple(_value(item) for item in items)))


def checked(value: InputValue, name: str | None = None) -> InputValue:
    """The value if it is one the Inputs 2.0 grammar can express; BadInput otherwise."""
    label = f"input {name}: " if name else ""
    if not isinstance(value, InputValue):
        raise BadInput(f"{label}{value!r} is not an input value", hint="Pass a str, or Text(...), Cred(...), Env(...).")
    if value.kind == "text":
        if not isinstance(value.text, str) or value.text == "":
            raise BadInput(f"{label}an empty text value", hint="Pass BLANK for an empty value, or some text.")
        if value.server is not None or value.items:
            raise BadInput(f"{label}a text value has no server or items")
        return value
    if value.kind == "array":
        for item in value.items:
            if checked(item, name).kind not in ("text", "cred", "env"):
                raise BadInput(f"{label}array item {item.unparse()!r} is not allowed",
                               hint="Array items are text, Cred(...) or Env(...) values.")
        return value
    if parse_value(value.unparse(), name=name) != value:  # cred/env names, the bare words
        raise BadInput(f"{label}{value!r} is not a valid input value", hint="Build values with Text, Cred, Env, Array.")
    return value


def _value(value: object, name: str | None = None) -> InputValue:
    """A plain string is text; a typed value is checked; anything else (a number, None) is refused."""
    if isinstance(value, str):
        return checked(InputValue("text", value), name)
    if isinstance(value, InputValue):
        return checked(value, name)
    label = f"input {name}: " if name else ""
    raise BadInput(f"{label}{type(value).__name__} {value!r} is not an input value",
                   hint=f"Pass a str (the text itself, e.g. {str(value)!r}), or Text(...), Cred(...), Env(...), Array(...).")


def input_layer(inputs: Inputs | None) -> Layer | None:
    """The caller's inputs as the highest-precedence layer; None when there are none."""
    if not inputs:
        return None
    if isinstance(inputs, str):
        raise BadInput(f"inputs {inputs!r} is one string", hint="Pass a mapping {NAME: value} or a list of NAME=VALUE.")
    if isinstance(inputs, Mapping):
        values = {check_name(name): _value(value, name) for name, value in inputs.items()}
        return Layer(SOURCE, values)
    return parse_assignments(inputs)


def input_layers(inputs: Inputs | None, *, strict: bool = True) -> list[Layer]:
    """`[input_layer(inputs)]`, or `[]` without inputs; `strict=False` lets it name inputs no script declares."""
    layer = input_layer(inputs)
    if layer is None:
        return []
    return [layer if strict else replace(layer, strict=False)]


def recorded_layer(shown: Mapping[str, str], source: str) -> Layer:
    """Recorded (masked) inputs as a layer to run with again; BadInput for a secret that was given as text."""
    raw = {name: value for name, value in shown.items() if value != "(unset)"}
    hidden = [name for name, value in raw.items() if value == "********"]
    if hidden:
        raise BadInput(f"input {hidden[0]} was a secret given as text and is not recorded",
                       hint=f"Pass it again with -i {hidden[0]}=cred:NAME.")
    return Layer.from_raw(source, raw, strict=False)


__all__ = ["Array", "BLANK", "Cred", "Env", "IGNORE", "INHERIT", "InputArg", "Inputs", "Text", "input_layer",
           "input_layers", "recorded_layer"]
