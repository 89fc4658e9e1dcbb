"""A deployment's env:SERVER:NAME references, checked before anything launches: the server is in the deployment
and its template declares NAME as an input, or NAME is one of the values every launched server offers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..deployments import Deployment
from ..errors import BadInput
from ..inputs.values import parse_value
from ..plan import ResolvedTemplate
from .servers import ADDRESS_NAMES

OFFERED = (*ADDRESS_NAMES, "RS_SERVER_NAME")  # from the server's record, whatever its template


def references(deployment: Deployment) -> Iterator[tuple[str, str, str, int | None]]:
    """(input, server, NAME, line) of every env:SERVER:NAME among the deployment's and its servers' inputs."""
    scopes = [(deployment.inputs, deployment.input_lines)] + [(s.inputs, s.input_lines) for s in deployment.servers]
    for inputs, lines in scopes:
        for name, raw in inputs.items():
            value = parse_value(raw, name=name)
            for item in (value.items if value.kind == "array" else (value,)):
                if item.kind == "env" and item.server:
                    yield name, item.server, item.text, lines.get(name)


def check_references(deployment: Deployment, resolved: Mapping[str, ResolvedTemplate]) -> None:
    """BadInput naming the file and line of the first reference to a value its server will not have."""
    for input_name, server, name, line in references(deployment):
        template = resolved.get(server)
        if template is None:  # load_deployment refused unknown servers already; a guard for callers that did not
            raise BadInput(f"input {input_name}: env:{server}:{name} names server {server!r}, not in the deployment",
                           file=str(deployment.path), line=line)
        declared = {spec.name for script in template.scripts() for spec in script.inputs}
        if name in declared or name in OFFERED:
            continue
        close = sorted(n for n in declared | set(OFFERED) if n.lower() == name.lower() or _near(n, name))
        maybe = f" Did you mean {close[0]}?" if close else ""
        raise BadInput(f"input {input_name}: env:{server}:{name}: server {server}'s template "
                       f"{template.template.name!r} declares no input {name}, and a server offers only "
                       f"{', '.join(OFFERED)} besides its inputs.{maybe}", file=str(deployment.path), line=line,
                       hint=f"Inputs of {server}'s template: {', '.join(sorted(declared)) or 'none'}.")


def _near(a: str, b: str) -> bool:
    """One letter added, dropped, changed or two swapped (a likely misspelling)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (len(diffs) == 2 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
