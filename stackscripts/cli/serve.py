"""`stackscripts serve [--bind 127.0.0.1:8080]`: the web dashboard over the audit store (docs/dashboard.md)."""

from __future__ import annotations

import click

from ..errors import BadInput
from .common import db_option
from .output import emit, json_option


def parse_bind(text: str) -> tuple[str, int]:
    """HOST:PORT ([::1]:PORT for IPv6), or a PORT alone (on 127.0.0.1); BadInput for anything else."""
    value = text.strip()
    host, sep, port = value.rpartition(":") if value.count(":") <= 1 or value.startswith("[") else ("", "", "")
    if not sep:
        host, port = ("127.0.0.1", value) if value.isdigit() else ("", "")
    host = host.strip("[]") if host.startswith("[") and host.endswith("]") else host
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadInput(f"--bind {text!r} is not HOST:PORT",
                       hint="Give e.g. --bind 127.0.0.1:8080, --bind [::1]:8080, or --bind 0.0.0.0:8080 once the "
                            "store has tokens.")
    return host, int(port)


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where to listen. Without API tokens in the store only loopback is allowed.")
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, bind: str, db: str | None, as_json: bool) -> None:
    """The web dashboard: servers, runs (live), reports, revisions, fleets, and actions for operators.

    Without tokens it answers only on loopback, to everyone on this machine; once a token exists
    ('stackscripts tokens create --team T --role viewer|operator') every request needs one. Runs until
    Ctrl-C or SIGTERM (--json: then one envelope with the URL it served)."""
    from ..api.controller import Controller
    from ..api.tokens import tokens_exist
    from ..web.auth import bind_allowed
    from ..web.serve import serve

    host, port = parse_bind(bind)
    served: dict[str, object] = {}

    def ready(url: str) -> None:
        served.update(url=url, store=str(getattr(c.store, "location", "")))
        if not as_json:
            click.echo(f"stackscripts: dashboard on {url} (store {served['store']}); Ctrl-C stops it", err=True)

    with Controller(db) as c:
        bind_allowed(host, tokens_exist(c))
        serve(c, host, port, ready=ready)
    emit(ctx, {**served, "stopped": True}, lambda: click.echo("stackscripts: dashboard stopped", err=True),
         as_json=as_json)
