"""`stackscripts servers import FILE`: many existing servers at once from an inventory (ours, Ansible's, CSV)."""

from __future__ import annotations

import click

from .common import controller, db_option
from .output import console, emit, json_option, table


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option("--scan", is_flag=True,
              help="Fetch each host's key now (the key exchange only, no login, as ssh-keyscan does) and record it.")
@click.option("--parallel", default=20, show_default=True, type=int, help="Hosts scanned at once.")
@click.option("--timeout", default=10.0, show_default=True, type=float, metavar="SECONDS",
              help="How long to wait for each host's key.")
@click.option("--update", is_flag=True, help="Move servers already recorded at another address to the inventory's.")
@db_option
@json_option
@click.pass_context
def import_(ctx: click.Context, file: str, scan: bool, parallel: int, timeout: float, update: bool, db: str | None,
            as_json: bool) -> None:
    """Record every server of an inventory file, or none if any entry is wrong (exit 2 naming its line).

    FILE: .yaml/.yml (a Servers: list of Name, Host, Port, Key, Groups, or an Ansible YAML inventory), .ini or no
    extension (an Ansible INI inventory), .csv (a header row of name,host,port,user,key,groups). Each server's
    groups become the inventory's (`servers list --group G`). A host whose key cannot be scanned is still
    recorded, without a key, and makes the exit code 1."""
    from ..api.inventory import ACTIONS, import_servers
    from .output import jsonable

    with controller(db, printer=False) as c:
        result = import_servers(c, file, scan=scan, parallel=parallel, update=update, timeout=timeout)
    counts = {action: result.count(action) for action in ACTIONS}
    failed = result.failed
    data = {"file": result.file, "servers": jsonable(result.servers), **counts, "scan_failed": len(failed)}

    def human() -> None:
        t = table("Server", "Address", "Groups", "Action", "Fingerprint")
        for s in result.servers:
            shown = s.fingerprint or ("scan failed" if s.error else "-")
            t.add_row(s.name, s.address, " ".join(s.groups) or "-", s.action, shown)
        console().print(t)
        summary = ", ".join(f"{n} {action}" for action, n in counts.items())
        scanned = f"; {len(result.servers) - len(failed)} host keys recorded" if result.scanned else ""
        click.echo(f"{len(result.servers)} servers from {result.file}: {summary}{scanned}")
        for s in failed:
            click.echo(f"stackscripts: {s.name}: {s.error}", err=True)

    message = f"{len(failed)} of {len(result.servers)} host keys could not be scanned: " + \
        "; ".join(f"{s.name}: {s.error}" for s in failed[:3]) + (" ..." if len(failed) > 3 else "")
    emit(ctx, data, human, as_json=as_json, ok=result.ok, exit_code=1, message=message)
