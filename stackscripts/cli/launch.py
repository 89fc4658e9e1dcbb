"""`stackscripts launch TEMPLATE --name N [--cloud C]`: create an instance and boot it."""

from __future__ import annotations

from collections.abc import Callable

import click

from .common import controller, run_command, run_options
from .fleet_queued import check_wait, queue_option, queued, wait_option

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
@queue_option
@wait_option
@run_options
def command(ctx: click.Context, template: str, name: str, cloud: str | None, image: str | None, destroy_on_failure: bool,
            queue: str | None, wait_: bool, inputs: tuple[str, ...], libraries: tuple[str, ...], db: str | None,
            quiet: bool, as_json: bool) -> None:
    """Launch a server from TEMPLATE and run its boot sequence (the instance is destroyed on any launch failure)."""
    from ..api.launcher import Launcher

    check_wait(queue, wait_)
    if queue is not None:
        from ..api.queued import submit_launch

        queued(ctx, lambda c: submit_launch(c, template, name, cloud=cloud, image=image, inputs=inputs, queue=queue),
               db=db, libraries=libraries, wait=wait_, quiet=quiet, as_json=as_json)
        return

    with controller(db, libraries, as_json=as_json, quiet=quiet) as c:
        launcher = Launcher(c, progress_printer(as_json, quiet))
        run_command(ctx, as_json, quiet, lambda: launcher.launch(template, name, cloud, image, inputs,
                                                                 destroy_on_failure=destroy_on_failure))
