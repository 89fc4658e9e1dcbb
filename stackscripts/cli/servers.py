"""`stackscripts servers ...`: add, import, list, show, upgrade, remove, forget-key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import controller, db_option
from .output import console, emit, json_option, table
from .servers_import import import_

if TYPE_CHECKING:
    from ..api.launcher import Discrepancy
    from ..store.base import ServerRecord


@click.group("servers")
def command() -> None:
    """Servers in the audit store: add or import existing hosts, list, show, upgrade to a revision, forget a host
    key."""


command.add_command(import_)


@command.command("add")
@click.argument("name")
@click.option("--host", required=True, metavar="[USER@]HOST", help="Address of an existing server.")
@click.option("--port", default=22, show_default=True, type=int)
@click.option("--key", metavar="FILE|cred:NAME",
              help="Private key to log in with: a file, or cred:NAME fetched from the credential backends at each "
                   "connection (default: your SSH agent/keys).")
@click.option("--scan", is_flag=True,
              help="Fetch the host key now (the key exchange only, no login, as ssh-keyscan does), record it and "
                   "print its fingerprint; else it is recorded at the first connection.")
@db_option
@json_option
@click.pass_context
def add(ctx: click.Context, name: str, host: str, port: int, key: str | None, scan: bool, db: str | None,
        as_json: bool) -> None:
    """Record an existing server (no cloud needed). A cred:NAME key is kept as that reference, never as the key."""
    from ..api.servers import address, host_fingerprint
    from ..errors import ConnectionFailed
    from .output import jsonable

    error: ConnectionFailed | None = None
    with controller(db, printer=False) as c:
        record = c.add_server(name, host, port, key)
        if scan:
            from ..api.inventory import scan_server

            try:
                record = scan_server(c, name)
            except ConnectionFailed as exc:
                error = exc
    fingerprint = host_fingerprint(record.host_key) if record.host_key else None

    def human() -> None:
        click.echo(f"added {name} ({address(record)})")
        if fingerprint:
            click.echo(f"host key {record.host_key.split()[0] if record.host_key else ''} {fingerprint}")
        if error is not None:
            click.echo(f"stackscripts: {error} It is recorded without a host key.", err=True)

    data = {**jsonable(record), "fingerprint": fingerprint} if scan else record
    emit(ctx, data, human, as_json=as_json, ok=error is None, exit_code=1,
         message=f"{error} It is recorded without a host key." if error else "")


@command.command("list")
@click.option("--reconcile", is_flag=True, help="Ask each cloud for its instances; flag orphans and vanished servers.")
@click.option("--team", help="Only this team's servers (default: every server you may see).")
@click.option("--deployment", metavar="D", help="Only the live (not terminated) servers of this deployment.")
@click.option("--group", metavar="G", help="Only the live servers of this group (groups come from 'servers import').")
@db_option
@json_option
@click.pass_context
def list_(ctx: click.Context, reconcile: bool, team: str | None, deployment: str | None, group: str | None,
          db: str | None, as_json: bool) -> None:
    """Every server with its state, template, cloud, groups and team."""
    from ..api.servers import select_servers, server_groups

    findings: list[Discrepancy] = []
    with controller(db, printer=False) as c:
        if reconcile:
            from ..api.launcher import Launcher

            findings = Launcher(c).reconcile()
        if deployment is None and group is None:
            servers = c.store.list_servers(team)
        else:
            servers = select_servers(c.store, deployment=deployment, group=group, team=team)

    def human() -> None:
        from ..api.servers import address

        t = table("Server", "Address", "State", "Template", "Cloud", "Groups", "Team")
        for s in servers:
            t.add_row(s.name, address(s) if s.host else "-", s.state, s.template or "-", s.cloud or "-",
                      " ".join(server_groups(s)) or "-", s.team)
        console().print(t)
        for f in findings:
            console().print(f"[yellow]{f['kind']}[/] {f.get('cloud')}: {f.get('server', '')} {f.get('node_id', '')[:12]} "
                            f"— {f['detail']}")
        if reconcile and not findings:
            console().print("reconcile: every cloud instance matches the store")

    emit(ctx, {"servers": servers, "reconcile": findings} if reconcile else servers, human, as_json=as_json)


@command.command("show")
@click.argument("name")
@db_option
@json_option
@click.pass_context
def show(ctx: click.Context, name: str, db: str | None, as_json: bool) -> None:
    """One server: state, addresses, key, cloud and node id, template, revision and drift, host key, inputs
    (secrets masked), and its history (runs and upgrades)."""
    from ..api.views import server_show, server_view
    from .server_history import drift_rows

    with controller(db, printer=False) as c:
        view = server_view(c, name)
    s, drift, past = view.record, view.drift, view.history

    def human() -> None:
        out = console()
        out.print(f"[bold]{s.name}[/]  state: {s.state}")
        for label, value in [*details(s), *drift_rows(drift)]:
            out.print(f"  {label:<11} {value}", markup=False)
        if s.inputs:
            out.print("inputs:")
        for key, value in s.inputs.items():
            out.print(f"  {key} = {value}", markup=False)
        if past:
            out.print("history:")
        for item in past:
            out.print(f"  {item['line']}", markup=False)

    emit(ctx, server_show(view), human, as_json=as_json)


@command.command("upgrade")
@click.argument("name")
@click.option("--to", "to", required=True, metavar="REV", help="A kept revision: sha256:... or 4+ of its hex digits.")
@click.option("-m", "--message", default="", help="Why, kept in the server's history.")
@db_option
@json_option
@click.pass_context
def upgrade(ctx: click.Context, name: str, to: str, message: str, db: str | None, as_json: bool) -> None:
    """Pin a server to another revision: its later operational and decommission scripts come from REV."""
    from ..api.snapshots import upgrade_server
    from ..api.views import event_data

    with controller(db, printer=False) as c:
        event = upgrade_server(c, name, to, message)
    data = event_data(event)
    emit(ctx, data, lambda: click.echo(f"{name}: {data['line']}"), as_json=as_json)


def details(s: ServerRecord) -> list[tuple[str, str]]:
    """What `servers show` prints about a server, one labelled line each: how to reach it and where it runs."""
    from ..api.servers import address

    extra = s.extra or {}
    rows = [("address", address(s))]
    rows += [(label, str(extra[key])) for label, key in (("private IP", "private_ip"), ("public IP", "public_ip"))
             if extra.get(key)]  # fmt: skip
    rows += [
        ("key", s.key_path or "- (your SSH agent and keys)"),
        ("cloud", s.cloud or "- (added by hand)"),
        ("node id", s.node_id or "-"),
    ]
    if s.deployment:
        rows.append(("deployment", s.deployment))
    template = s.template or "-"
    rows.append(("template", f"{template} (sha256 {s.template_sha256[:12]})" if s.template_sha256 else template))
    host_key = s.host_key or "not yet recorded"
    rows.append(("host key", host_key if len(host_key) <= 100 else host_key[:72] + "…"))
    return rows


@command.command("remove")
@click.argument("name")
@db_option
@json_option
@click.pass_context
def remove(ctx: click.Context, name: str, db: str | None, as_json: bool) -> None:
    """Forget a server record (its runs stay in the store)."""
    with controller(db, printer=False) as c:
        c.store.get_server(name)
        c.store.delete_server(name)
    emit(ctx, {"removed": name}, lambda: click.echo(f"removed {name}"), as_json=as_json)


@command.command("forget-key")
@click.argument("name")
@db_option
@json_option
@click.pass_context
def forget_key(ctx: click.Context, name: str, db: str | None, as_json: bool) -> None:
    """Accept a rebuilt host: its next key is trusted on first use."""
    with controller(db, printer=False) as c:
        c.forget_key(name)
    emit(ctx, {"server": name, "host_key": None},
         lambda: click.echo(f"{name}: host key forgotten; the next connection records the new one"), as_json=as_json)
