"""What a `*.j2` attachment reads: the variables its jinja2 text uses, each with the first line it is used on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

# The variables a .j2 attachment is rendered with besides the script's inputs (render.bundle.step_env).
# RS_ATTACH_DIR is not one of them: the folder only exists on the server, once the step starts.
RENDER_VARS = ("RS_PACKAGES", "STACKSCRIPTS_SERVER", "STACKSCRIPTS_RUN_ID")


@dataclass(frozen=True)
class J2File:
    """One .j2 attachment: its file and the variables it reads (name -> first line), in order of first use."""

    path: Path
    variables: dict[str, int]


def j2_name(name: str) -> bool:
    return name.endswith(".j2")


def read(path: Path) -> J2File:
    """Parse a .j2 file; a syntax error or a file that is not UTF-8 is BadInput at its line."""
    import jinja2
    from jinja2 import meta, nodes

    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput("the template is not UTF-8 text", file=str(path), line=data[: exc.start].count(b"\n") + 1,
                       hint="Save it as UTF-8.") from None
    try:
        tree = jinja2.Environment(keep_trailing_newline=True, autoescape=False).parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise BadInput(f"template syntax error: {exc.message}", file=str(path), line=exc.lineno,
                       hint="Fix the jinja2 expression.") from None
    free = meta.find_undeclared_variables(tree)  # names read and never set by the template itself
    found: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in free:
            found[node.name] = min(found.get(node.name, node.lineno), node.lineno)
    return J2File(path, dict(sorted(found.items(), key=lambda item: item[1])))


def templates_of(attach_dir: Path, names: tuple[str, ...] | list[str]) -> list[J2File]:
    """The .j2 attachments among names that exist under attach_dir (a missing one is another check's finding)."""
    return [read(attach_dir / name) for name in names if j2_name(name) and (attach_dir / name).is_file()]
