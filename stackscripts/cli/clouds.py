"""`stackscripts clouds list | check NAME`: configured clouds and whether their credentials work."""

from __future__ import annotations

import click

from .output import console, emit, json_option, table


@click.group("clouds")
def command() -> None:
    """Configured clouds (local is always there)."""


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Clouds from the clouds file and STACKSCRIPTS_CLOUD_* variables (secrets never shown)."""
    from ..clouds import clouds_file, load_clouds

    clouds = load_clouds()
    data = [{"name": n, "provider": c.get("provider"), "driver": c.get("driver", n), "region": c.get("region"),
             "credentials": "set" if c.get("key") else ("none needed" if n == "local" else "missing")}
            for n, c in sorted(clouds.items())]

    def human() -> None:
        t = table("Cloud", "Provider", "Driver", "Region", "Credentials")
        for row in data:
            t.add_row(row["name"], row["provider"], row["driver"], row["region"] or "-", row["credentials"])
        console().print(t)
        console().print(f"config file: {clouds_file()}")

    emit(ctx, data, human, as_json=as_json)


@command.command("check")
@click.argument("name")
@json_option
@click.pass_context
def check(ctx: click.Context, name: str, as_json: bool) -> None:
    """Call the cloud's API once to prove the credentials work (exit 2 if not)."""
    from ..clouds import provider_for

    message = provider_for(name).check()
    emit(ctx, {"cloud": name, "ok": True, "message": message}, lambda: click.echo(message), as_json=as_json)
