"""`stackscripts ssh SERVER [-- COMMAND...]`: a shell, or one command, on a recorded server (OpenSSH's ssh)."""

from __future__ import annotations

import click

from .common import controller, db_option
from .output import emit, json_option


@click.command("ssh")
@click.argument("server")
@click.argument("remote", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND...]")
@click.option("-t", "--tty", is_flag=True, help="Give COMMAND a terminal (ssh -t), e.g. for top or sudo.")
@db_option
@json_option
@click.pass_context
def command(ctx: click.Context, server: str, remote: tuple[str, ...], tty: bool, db: str | None,
            as_json: bool) -> None:
    """A shell on SERVER, or COMMAND (after --), with its recorded address, user, port, key and host key.

    Exits with the remote command's exit code (255: ssh's own error). A changed host key is refused (exit 2);
    with none recorded, the key the server presents is trusted and recorded. With --json, COMMAND is required:
    its output and exit code are the envelope's data."""
    from ..api.servers import host_fingerprint
    from ..api.shell import run_ssh
    from ..errors import BadInput

    if as_json and not remote:
        raise BadInput("an interactive shell has no JSON form: --json needs a COMMAND",
                       hint=f"Give one, e.g. 'stackscripts ssh {server} --json -- hostname', or leave out --json.")
    with controller(db, printer=False) as c:
        result = run_ssh(c, server, remote, tty=tty, capture=as_json)
    note = (f"{server}: recorded its host key {host_fingerprint(result.recorded_host_key)} "
            f"({result.recorded_host_key.split()[0]}), trusted on first use") if result.recorded_host_key else None

    def human() -> None:
        if note:
            click.echo(f"stackscripts: {note}", err=True)

    data = {"server": result.server, "command": list(result.command), "exit_code": result.exit_code,
            "stdout": (result.stdout or b"").decode("utf-8", "replace"),
            "stderr": (result.stderr or b"").decode("utf-8", "replace"),
            "recorded_host_key": result.recorded_host_key}
    emit(ctx, data, human, as_json=as_json, ok=result.exit_code == 0, exit_code=result.exit_code,
         message=f"the command exited {result.exit_code}" + (" (ssh's own error)" if result.exit_code == 255 else ""))
