"""`stackscripts scripts ...`: list, show, lint, scaffold."""

from __future__ import annotations

import click

from .common import library_option
from .output import console, emit, json_option, table


@click.group("scripts")
def command() -> None:
    """Script libraries: list, show, lint, scaffold."""


@command.command("list")
@library_option
@json_option
@click.pass_context
def list_(ctx: click.Context, libraries: tuple[str, ...], as_json: bool) -> None:
    """Every script: name, file, inputs, attachments, sha256."""
    from .. import api

    scripts = api.list_scripts(libraries)
    data = [{"name": s.name, "ref": s.ref, "file": str(s.path), "inputs": [i.name for i in s.inputs],
             "attachments": list(s.attachments), "sha256": s.sha256, "dialect": s.dialect} for s in scripts]

    def human() -> None:
        t = table("Name", "File", "Inputs", "Attachments", "sha256")
        for s in scripts:
            t.add_row(s.ref, str(s.path), ", ".join(i.name for i in s.inputs) or "-",
                      ", ".join(s.attachments) or "-", s.sha256[:12])
        console().print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("show")
@click.argument("script")
@library_option
@json_option
@click.pass_context
def show(ctx: click.Context, script: str, libraries: tuple[str, ...], as_json: bool) -> None:
    """Metadata and inputs of one script (a path or LIBRARY/NAME)."""
    from .. import api

    s = api.show_script(script, libraries)
    data = {"name": s.name, "ref": s.ref, "file": str(s.path), "description": s.description,
            "interpreter": s.shebang or "bash -e", "packages": list(s.packages), "attachments": list(s.attachments),
            "sha256": s.sha256, "dialect": s.dialect, "inputs": s.inputs}

    def human() -> None:
        out = console()
        out.print(f"[bold]{s.name}[/]  ({s.path})")
        if s.description:
            out.print(s.description)
        out.print(f"interpreter: {s.shebang or 'bash -e'}   sha256: {s.sha256}")
        if s.packages:
            out.print("packages: " + " ".join(s.packages))
        out.print("attachments: " + (", ".join(s.attachments) or "none"))
        t = table("Input", "Category", "Type", "Required", "Default", "Possible values", title="Inputs")
        for i in s.inputs:
            t.add_row(i.name, i.category or "", i.input_type, "yes" if i.required else "no", i.default or "",
                      ", ".join(i.possible_values or ()))
        out.print(t)

    emit(ctx, data, human, as_json=as_json)


@command.command("lint")
@click.argument("paths", nargs=-1)
@click.option("--no-shellcheck", is_flag=True, help="Skip shellcheck.")
@library_option
@json_option
@click.pass_context
def lint(ctx: click.Context, paths: tuple[str, ...], no_shellcheck: bool, libraries: tuple[str, ...],
         as_json: bool) -> None:
    """Metadata errors, shellcheck findings, undeclared/unused inputs (body and .j2 attachments), missing attachments.

    PATHS are scripts or folders; with none, the libraries (--library, else $STACKSCRIPTS_LIBRARY, else ./scripts).
    Exit 2 on errors."""
    from .. import api

    findings = api.lint(paths, shellcheck=not no_shellcheck, libraries=libraries)
    errors = sum(1 for f in findings if f.severity == "error")

    def human() -> None:
        out = console()
        for f in findings:
            out.print(str(f), style="red" if f.severity == "error" else "yellow", markup=False, soft_wrap=True)
        out.print(f"{errors} error(s), {len(findings) - errors} warning(s)")

    emit(ctx, {"findings": findings, "errors": errors}, human, as_json=as_json, ok=not errors, exit_code=2,
         message=f"{errors} lint error(s)")


@command.command("scaffold")
@click.argument("path")
@click.option("--dry-run", is_flag=True, help="Print the result instead of writing the file.")
@json_option
@click.pass_context
def scaffold(ctx: click.Context, path: str, dry_run: bool, as_json: bool) -> None:
    """Infer the metadata block from the body ($VARS, ${X:=default}, $RS_ATTACH_DIR/file) and write it."""
    from .. import api

    result = api.scaffold_script(path, write=not dry_run)
    data = {"file": path, "changed": result.changed, "added_inputs": list(result.added_inputs),
            "added_attachments": list(result.added_attachments), "written": result.changed and not dry_run}
    if dry_run:
        data["text"] = result.text  # --dry-run --json: what would be written, as the human view prints it

    def human() -> None:
        if dry_run:
            click.echo(result.text, nl=False)
            return
        if not result.changed:
            click.echo(f"{path}: metadata already complete")
            return
        click.echo(f"{path}: wrote metadata (inputs added: {', '.join(result.added_inputs) or 'none'}; "
                   f"attachments added: {', '.join(result.added_attachments) or 'none'})")

    emit(ctx, data, human, as_json=as_json)
