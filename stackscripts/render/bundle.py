"""A step bundle: the script, its attachments (*.j2 rendered), a wrapper and a 0600 env file."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from ..errors import BadInput
from ..model import PlannedStep, Script

ENV_FILE = "env"
WRAPPER = "run.sh"


def command_for(script: Script) -> str:
    """How the wrapper starts the script: by its shebang, or `bash -e` when it has none."""
    if script.shebang:
        return '"$here/script"'
    return 'bash -e "$here/script"'


def wrapper_text(script: Script) -> str:
    template = resources.files(__package__).joinpath("wrapper.sh").read_text("utf-8")
    return template.replace("__COMMAND__", command_for(script))


def env_bytes(env: Mapping[str, str]) -> bytes:
    """NUL-separated NAME=VALUE records, read by the wrapper without shell parsing."""
    out = bytearray()
    for name, value in env.items():
        if "\0" in value:
            raise BadInput(f"input {name}: the value contains a NUL byte, which no environment variable can hold",
                           hint="Remove the NUL byte.")
        out += f"{name}={value}".encode() + b"\0"
    return bytes(out)


def render_attachment(source: Path, env: Mapping[str, str]) -> tuple[str, bytes]:
    """An attachment's name and bytes; `*.j2` files are rendered with the inputs as variables."""
    if source.suffix != ".j2":
        return source.name, source.read_bytes()
    import jinja2

    try:
        template = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                      autoescape=False).from_string(source.read_text("utf-8"))
        return source.stem, template.render(dict(env)).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        raise BadInput(f"template syntax error: {exc.message}", file=str(source), line=exc.lineno,
                       hint="Fix the jinja2 expression.") from None
    except jinja2.UndefinedError as exc:
        raise BadInput(f"undefined variable: {exc.message}", file=str(source),
                       hint="Declare the input in the script's metadata or give it a value.") from None


def step_env(step: PlannedStep, inputs: Mapping[str, str], *, server: str | None = None,
             run_id: str | None = None) -> dict[str, str]:
    """The environment of one step: its inputs plus RS_PACKAGES and the server's name and run id."""
    env = dict(inputs)
    env["RS_PACKAGES"] = " ".join(step.script.packages)
    if server:
        env["STACKSCRIPTS_SERVER"] = server
    if run_id:
        env["STACKSCRIPTS_RUN_ID"] = run_id
    return env


def bundle_files(step: PlannedStep, env: Mapping[str, str], *, include_env: bool = True) -> dict[str, tuple[int, bytes]]:
    """Relative path -> (mode, bytes) of every file of the bundle; folders end with "/" (no bytes)."""
    script = step.script
    files: dict[str, tuple[int, bytes]] = {
        "attachments/": (0o700, b""),
        "work/": (0o700, b""),  # the step's private working directory
        WRAPPER: (0o700, wrapper_text(script).encode("utf-8")),
        "script": (0o700, script.text.encode("utf-8")),
        "manifest.json": (0o600, json.dumps({
            "step": step.index, "phase": step.phase.value, "name": script.name, "file": str(script.path),
            "sha256": script.sha256, "inputs": sorted(i.name for i in step.inputs),
        }, indent=2).encode("utf-8") + b"\n"),
    }
    for name in script.attachments:
        out_name, data = render_attachment(script.attach_dir / name, env)
        files[f"attachments/{out_name}"] = (0o600, data)
    if include_env:
        files[ENV_FILE] = (0o600, env_bytes(env))
    return files


def write_bundle(step: PlannedStep, env: Mapping[str, str], out_dir: Path, *, include_env: bool = True) -> Path:
    """Write the bundle into out_dir (created 0700, emptied first)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, mode=0o700)
    for rel, (mode, data) in bundle_files(step, env, include_env=include_env).items():
        path = out_dir / rel
        if rel.endswith("/"):
            path.mkdir(mode=mode)
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)
    return out_dir


def bundle_dirname(step: PlannedStep) -> str:
    return f"{step.index + 1:02d}-{step.script.path.stem}"
