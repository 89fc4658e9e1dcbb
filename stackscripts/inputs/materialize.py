"""Turn resolved inputs into the exact strings a step's environment holds, and their masked views."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..errors import BadInput
from ..masking import MASK, MIN_SECRET
from ..model import InputValue, ResolvedInput
from .creds import Credentials

# what env:NAME (no server) offers of the server itself, as RightScale did (env:RS_UUID in right_st's README)
SELF_NAMES = ("PRIVATE_IP", "PUBLIC_IP", "HOST", "ADDRESS", "RS_UUID", "RS_INSTANCE_UUID", "RS_SERVER_NAME")

# env_lookup(server, name) -> value of another server's input or attribute (PRIVATE_IP...), None if unknown
EnvLookup = Callable[[str, str], "str | None"]


def _no_env(server: str, name: str) -> str | None:
    return None


def value_text(value: InputValue, name: str, creds: Credentials, env_lookup: EnvLookup) -> str:
    if value.kind == "text":
        return value.text
    if value.kind == "blank":
        return ""
    if value.kind == "cred":
        return creds.get(value.text, input_name=name)
    if value.kind == "env":
        found = env_lookup(value.server or "", value.text)
        if found is None and not value.server:
            raise BadInput(f"input {name}: {value.unparse()} has no value on this server",
                           hint=f"The server itself offers {', '.join(SELF_NAMES)}, its extra data and its inputs.")
        if found is None:
            raise BadInput(f"input {name}: {value.unparse()} has no value",
                           hint=f"Server {value.server!r} must exist in the same deployment and have a value "
                                f"for {value.text} (launch it first).")
        return found
    if value.kind == "array":
        items = [value_text(item, name, creds, env_lookup) for item in value.items]
        for item in items:
            if "\n" in item:
                raise BadInput(f"input {name}: an array item contains a newline",
                               hint="Array items reach scripts one per line, so they cannot contain newlines.")
        return "\n".join(items)
    raise BadInput(f"input {name}: {value.kind} has no value to pass")


def materialize(inputs: Iterable[ResolvedInput], creds: Credentials | None = None,
                env_lookup: EnvLookup | None = None) -> dict[str, str]:
    """Environment values for the inputs that have one (unset and `ignore` inputs are left out)."""
    creds = creds or Credentials()
    lookup = env_lookup or _no_env
    env: dict[str, str] = {}
    for item in inputs:
        if item.value is None or item.value.kind == "ignore":
            continue
        env[item.name] = value_text(item.value, item.name, creds, lookup)
        if item.secret and 0 < len(env[item.name]) < MIN_SECRET:
            source = f"credential {item.value.text!r}" if item.value.kind == "cred" else "its secret value"
            raise BadInput(f"input {item.name}: {source} is {len(env[item.name])} character(s) long; "
                           f"secrets must have at least {MIN_SECRET}",
                           hint="Masking a shorter secret would hide every occurrence of those letters in the output, "
                                "and so give the secret away: use a longer value.")
    return env


def secret_values(inputs: Iterable[ResolvedInput], env: Mapping[str, str]) -> list[str]:
    """The clear-text values that must be masked wherever output goes."""
    secrets = []
    for item in inputs:
        if item.secret and env.get(item.name):
            secrets.append(env[item.name])
            secrets.extend(line for line in env[item.name].split("\n") if len(line) >= 4)
    return secrets


def masked(inputs: Iterable[ResolvedInput], received: Mapping[str, str] | None = None,
           hide: Callable[[str], str] | None = None) -> dict[str, str]:
    """name -> value as recorded and shown: text values as is, secrets only by reference.

    With `received` (the values a step got), an env: reference is shown with the value it gave beside it,
    `env:db:PRIVATE_IP -> 10.0.0.5`, that value passed through `hide` (masking) and masked whole when secret."""
    shown = {}
    for item in inputs:
        if item.value is None:
            shown[item.name] = "(unset)"
        elif item.secret and item.value.kind != "cred" and not _is_env(item.value):
            shown[item.name] = MASK
        else:
            shown[item.name] = item.value.unparse()
            if received is not None and _is_env(item.value) and item.name in received:
                value = MASK if item.secret else (hide or str)(received[item.name])
                shown[item.name] += " -> " + value.replace("\n", ", ")
    return shown


def _is_env(value: InputValue) -> bool:
    return value.kind == "env" or (value.kind == "array" and any(i.kind == "env" for i in value.items))
