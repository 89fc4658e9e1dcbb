"""`stackscripts launch TEMPLATE --name N [--cloud C]`: create an instance and boot it."""

from __future__ import annotations

from collections.abc import Callable

import click

from .common import controller, run_command, run_options

cloud_option = click.option("--cloud", default=None,
                            help="A configured cloud (local, ec2, gce, azure_arm, openstack, ...); default: the "
                                 "project file's cloud (stackscripts.yaml), else local.")


def progress_printer(as_json: bool, quiet: bool) -> Callable[[str], None] | None:
    if as_json or quiet:
        return None
    return lambda message: click.echo(f"· {message}", err=True)


@click.command("launch")
@click.argument("template")
@click.option("--name", "-n", required=True, help="The server's name.")
@cloud_option
@click.option("--image", help="A MultiCloud image name of the template (default: the first).")
@click.option("--destroy-on-failure", is_flag=True, help="Destroy the instance if a boot step fails.")
@run_options
def command(ctx: click.Context, template: str, name: str, cloud: str | None, image: str | None, destroy_on_failure: bool,
            inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None, quiet: bool, as_json: bool) -> None:
    """Launch a server from TEMPLATE and run its boot sequence (the instance is destroyed on any launch failure)."""
    from ..api.launcher import Launcher

    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        launcher = Launcher(c, progress_printer(as_json, quiet))
        run_command(ctx, as_json, quiet, lambda: launcher.launch(template, name, cloud, image, inputs,
                                                                 destroy_on_failure=destroy_on_failure))
