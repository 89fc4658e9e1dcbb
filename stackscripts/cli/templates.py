"""`stackscripts templates ...`: list, show, validate, inputs, render."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .common import db_option, input_option, library_option
from .output import console, emit, json_option, table

if TYPE_CHECKING:
    from ..render.cloudinit import UserData

@click.group("templates")
def command() -> None:
    """ServerTemplates: list, show, validate, inputs, render, lock, commit."""


def _add_lock() -> None:
    from .templates_lock import command as lock

    command.add_command(lock)


_add_lock()


@command.command("list")
@click.argument("folder", default="servertemplates")
@json_option
@click.pass_context
def list_(ctx: click.Context, folder: str, as_json: bool) -> None:
    """Templates in a folder (default ./servertemplates)."""
    from .. import api

    templates = api.list_templates(folder)
    data = [{"name": t.name, "file": str(t.path), "sha256": t.sha256,
             "steps": {p.value: len(s) for p, s in t.phases.items()}} for t in templates]

    def human() -> None:
        t = table("Name", "File", "Boot", "Operational", "Decommission", "sha256")
        for item in templates:
            counts = {p.value: str(len(s)) for p, s in item.phases.items()}
            t.add_row(item.name, str(item.path), counts.get("Boot", "0"), counts.get("Operational", "0"),
                      counts.get("Decommission", "0"), item.sha256[:12])
        console().print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("show")
@click.argument("template")
@library_option
@json_option
@click.pass_context
def show(ctx: click.Context, template: str, libraries: tuple[str, ...], as_json: bool) -> None:
    """Phases with their scripts, input overrides and MultiCloud images."""
    from .. import api

    resolved = api.validate_template(template, libraries)
    t = resolved.template
    phases = {p.value: [{"ref": ref.ref, "name": s.name, "file": str(s.path), "sha256": s.sha256,
                         "timeout": ref.timeout, "retries": ref.retries} for ref, s in steps]
              for p, steps in resolved.steps.items()}
    data = {"name": t.name, "file": str(t.path), "description": t.description, "sha256": t.sha256,
            "inputs": dict(t.inputs), "phases": phases, "images": t.images, "alerts": t.alerts}

    def human() -> None:
        out = console()
        out.print(f"[bold]{t.name}[/]  ({t.path})  sha256 {t.sha256[:12]}")
        if t.description:
            out.print(t.description.strip())
        for phase, steps in phases.items():
            out.print(f"\n[bold]{phase}[/]")
            for n, step in enumerate(steps, 1):
                extra = f"  timeout {step['timeout']:g}s" if step["timeout"] else ""
                out.print(f"  {n}. {step['name']}  ({step['file']}){extra}", markup=False)
        for n, image in enumerate(t.images):
            clouds = ", ".join(f"{s.cloud}{' ' + s.region if s.region else ''}: {s.image}" for s in image.settings)
            out.print(f"\nimage {image.name}{' (default)' if n == 0 else ''}: {clouds}", markup=False)

    emit(ctx, data, human, as_json=as_json)


@command.command("validate")
@click.argument("templates", nargs=-1, required=True)
@library_option
@input_option
@json_option
@click.pass_context
def validate(ctx: click.Context, templates: tuple[str, ...], libraries: tuple[str, ...], inputs: tuple[str, ...],
             as_json: bool) -> None:
    """Check templates: YAML, scripts, attachments, inputs (Required, Possible Values). Exit 2 on the first error."""
    from .. import api

    results: list[dict[str, Any]] = []
    for path in templates:
        resolved = api.validate_template(path, libraries, inputs)
        results.append({"file": path, "name": resolved.template.name, "valid": True,
                        "steps": sum(len(s) for s in resolved.steps.values()),
                        "unset_required": api.unset_required(resolved, inputs)})

    def human() -> None:
        for r in results:
            needs = f"; needs at launch: {', '.join(r['unset_required'])}" if r["unset_required"] else ""
            click.echo(f"{r['file']}: valid ({r['name']}, {r['steps']} steps){needs}")

    emit(ctx, results, human, as_json=as_json)


@command.command("inputs")
@click.argument("template")
@library_option
@input_option
@json_option
@click.pass_context
def inputs_(ctx: click.Context, template: str, libraries: tuple[str, ...], inputs: tuple[str, ...], as_json: bool) -> None:
    """Every input: its resolved value (secrets by reference only) and where it came from."""
    from .. import api
    from ..inputs.materialize import masked

    resolved = api.template_inputs(template, inputs, libraries)
    shown = masked(resolved)
    data: list[dict[str, Any]] = [{"name": r.name, "value": shown[r.name], "source": r.source, "secret": r.secret,
             "required": bool(r.spec and r.spec.required), "type": r.spec.input_type if r.spec else "single"}
            for r in resolved]

    def human() -> None:
        t = table("Input", "Value", "Source", "Required")
        for row in data:
            t.add_row(row["name"], row["value"] + ("  (secret)" if row["secret"] else ""), row["source"],
                      "yes" if row["required"] else "")
        console().print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("render")
@click.argument("template")
@click.option("--phase", default="boot", show_default=True, help="boot, operational or decommission.")
@click.option("-o", "--output", "out_dir", metavar="DIR", help="Write one runnable bundle per step into DIR.")
@click.option("--cloud-init", is_flag=True, help="Print the boot sequence as cloud-init user-data.")
@click.option("--include-secrets", is_flag=True, help="Embed cred: values (they are left out otherwise).")
@click.option("--server", metavar="NAME", help="STACKSCRIPTS_SERVER in the bundles and user-data. "
              "Default: the template's file name without .yaml.")
@click.option("--creds-on-instance", type=click.Choice(["ssm", "secretsmanager"]),
              help="With --cloud-init: the instance fetches cred: inputs at boot through its role; none is in the "
                   "user-data.")
@click.option("--max-size", type=int, default=16384, show_default=True, metavar="BYTES",
              help="With --cloud-init: refuse user-data over BYTES (EC2's limit; 0: no limit).")
@click.option("--gzip", "gzip_", is_flag=True, help="With --cloud-init: gzip the user-data (binary; cloud-init "
              "accepts it). --json gives it base64-encoded, as EC2's RunInstances takes it.")
@library_option
@input_option
@json_option
@click.pass_context
def render(ctx: click.Context, template: str, phase: str, out_dir: str | None, cloud_init: bool,
           include_secrets: bool, server: str | None, creds_on_instance: str | None, max_size: int, gzip_: bool,
           libraries: tuple[str, ...], inputs: tuple[str, ...], as_json: bool) -> None:
    """The exact scripts that would run: bundles (-o DIR), cloud-init user-data, or a listing."""
    from .. import api

    if cloud_init:
        _cloud_init(ctx, api.user_data(template, inputs, libraries, include_secrets=include_secrets,
                                       creds_on_instance=creds_on_instance, max_size=max_size or None,
                                       gzip=gzip_, server=server), as_json)
        return
    if out_dir:
        bundles = api.render_bundles(template, out_dir, phase, inputs, libraries, include_secrets=include_secrets,
                                     server=server)
        written = {"phase": phase, "bundles": [str(b) for b in bundles]}
        emit(ctx, written, lambda: click.echo("".join(f"{b}/run.sh\n" for b in bundles), nl=False), as_json=as_json)
        return
    plan = api.plan(template, phase, inputs, libraries)
    data = {"phase": plan.phase.value, "steps": [{"index": s.index, "name": s.name, "file": str(s.script.path),
                                                  "sha256": s.script.sha256} for s in plan.steps]}

    def human() -> None:
        for s in plan.steps:
            click.echo(f"--- step {s.index + 1}: {s.name} ({s.script.path})")
            click.echo(s.script.text, nl=not s.script.text.endswith("\n"))

    emit(ctx, data, human, as_json=as_json)


def _cloud_init(ctx: click.Context, user_data: UserData, as_json: bool) -> None:
    """The user-data on stdout (bytes with --gzip), its size and notes on stderr; all in the envelope with --json."""
    import base64

    from ..errors import BadInput

    data: dict[str, Any] = {"user_data": user_data.text, "size": user_data.size, "gzip": user_data.gzip,
            "max_size": user_data.max_size, "notes": list(user_data.notes)}
    if user_data.gzip:
        data["user_data_base64"] = base64.b64encode(user_data.data).decode("ascii")
    if user_data.gzip and not as_json and sys.stdout.isatty():
        raise BadInput("gzip user-data is binary and stdout is a terminal",
                       hint="Redirect it to a file: > user-data.gz (or pass --json for base64).")

    def human() -> None:
        for note in user_data.notes:
            click.echo(f"stackscripts: note: {note}", err=True)
        click.echo(f"stackscripts: {user_data.describe()}", err=True)
        if user_data.gzip:
            sys.stdout.flush()
            sys.stdout.buffer.write(user_data.data)
        else:
            sys.stdout.write(user_data.text)

    emit(ctx, data, human, as_json=as_json)


@command.command("commit")
@click.argument("template")
@click.option("-m", "--message", required=True, help="Why: kept with the revision, shown by 'revisions list'.")
@click.option("--commit-heads", is_flag=True, help="Freeze scripts from mutable sources (script files in folders, "
              "@head, folder libraries) into the revision as they are now.")
@library_option
@db_option
@json_option
@click.pass_context
def commit(ctx: click.Context, template: str, message: str, commit_heads: bool, libraries: tuple[str, ...],
           db: str | None, as_json: bool) -> None:
    """Keep TEMPLATE and everything it uses as an immutable revision; print its sha256:... digest."""
    import time

    from .. import api
    from .common import controller
    from .revisions import revision_data

    started = time.time()
    with controller(db, libraries, printer=False) as c:
        kept = api.commit_template(c, template, message, commit_heads=commit_heads)
    new = kept.created >= started
    data = {**revision_data(kept), "new": new}

    def human() -> None:
        click.echo(kept.digest)
        if not new:
            click.echo(f"stackscripts: already kept: {data['when']} by {kept.who}: {kept.message}", err=True)

    emit(ctx, data, human, as_json=as_json)
