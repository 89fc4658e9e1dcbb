"""Entry point: a lazy command group (each command module is imported only when used)."""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any

import click

from .. import __version__
from ..errors import StackscriptsError
from .output import fail, wants_json

COMMANDS = {
    "scripts": ("stackscripts.cli.scripts", "Script libraries: list, show, lint, scaffold."),
    "templates": ("stackscripts.cli.templates", "ServerTemplates: list, show, validate, inputs, render, lock, commit."),
    "libraries": ("stackscripts.cli.libraries", "Shared libraries: add, list, show, fetch, publish, diff."),
    "revisions": ("stackscripts.cli.revisions", "Template revisions kept in the store: list, show, diff."),
    "servers": ("stackscripts.cli.servers", "Servers: add existing hosts, list, show, upgrade, remove, forget-key."),
    "ssh": ("stackscripts.cli.ssh", "A shell (or one command) on a server, with its recorded key and host key."),
    "deployments": ("stackscripts.cli.deployments", "Deployments: list, show, terminate."),
    "boot": ("stackscripts.cli.boot", "Run a template's boot sequence on a server, live."),
    "run": ("stackscripts.cli.run", "Run an operational script (or any script file) on an operational server."),
    "resume": ("stackscripts.cli.resume", "Continue a stranded boot from the failed step."),
    "decommission": ("stackscripts.cli.decommission", "Run a server's decommission scripts."),
    "fleet": ("stackscripts.cli.fleet", "Boot many servers at once (--queue: through workers)."),
    "fleets": ("stackscripts.cli.fleets", "Queued fleets: list, show, cancel."),
    "worker": ("stackscripts.cli.worker", "Run queued units from the team store until stopped."),
    "workers": ("stackscripts.cli.workers", "Workers serving queued units: list."),
    "runs": ("stackscripts.cli.runs", "Recorded runs: list, show, log (--follow), export, prune."),
    "launch": ("stackscripts.cli.launch", "Launch a server from a template on a cloud and boot it."),
    "deploy": ("stackscripts.cli.deploy", "Launch and boot every server of a deployment."),
    "terminate": ("stackscripts.cli.terminate", "Decommission, then destroy a server's instance."),
    "clouds": ("stackscripts.cli.clouds", "Configured clouds: list, check."),
    "report": ("stackscripts.cli.report", "Boot-time table of runs, side by side, or as HTML."),
    "store": ("stackscripts.cli.store", "The audit store (SQLite file or PostgreSQL): status, init, migrate."),
    "serve": ("stackscripts.cli.serve", "The web dashboard over the store (loopback only until tokens exist)."),
    "tokens": ("stackscripts.cli.tokens", "API tokens of the web dashboard: create (shown once), list, revoke."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module = import_module(COMMANDS[name][0])
            return module.command
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stackscripts")
def cli() -> None:
    """Compose shell fragments into ServerTemplates, run them on servers, and record every step."""


def command_path(argv: list[str]) -> str:
    """The command words of argv ("runs show"), as success envelopes name them; never an argument."""
    words: list[str] = []
    if argv and not argv[0].startswith("-") and argv[0] in COMMANDS:
        words.append(argv[0])
        group = import_module(COMMANDS[argv[0]][0]).command
        if isinstance(group, click.Group) and len(argv) > 1 and argv[1] in group.commands:
            words.append(argv[1])
    return " ".join(words)


def main(argv: list[str] | None = None) -> Any:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = wants_json(argv)
    command = command_path(argv)
    try:
        code = cli.main(args=argv, prog_name="stackscripts", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.stderr.write("stackscripts: interrupted\n")
        sys.exit(130)
    except click.ClickException as exc:
        fail(command, RuntimeError(exc.format_message()), exit_code=2, as_json=as_json, kind="UsageError")
        if not as_json:
            sys.stderr.write("Run 'stackscripts --help' (or COMMAND --help) for usage.\n")
        sys.exit(2)
    except StackscriptsError as exc:
        fail(command, exc, exit_code=exc.exit_code, as_json=as_json)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("stackscripts: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback unless asked
        if os.environ.get("STACKSCRIPTS_DEBUG"):
            raise
        fail(command, RuntimeError(f"{type(exc).__name__}: {exc} (set STACKSCRIPTS_DEBUG=1 for a traceback)"),
             exit_code=3, as_json=as_json, kind="InternalError")
        sys.exit(3)


if __name__ == "__main__":
    main()
