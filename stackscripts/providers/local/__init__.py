"""The local cloud: a libcloud NodeDriver whose instances are Docker system containers on this machine.

    from stackscripts.providers.local import LocalNodeDriver, ensure_base_image

    ensure_base_image(on_progress=print)          # once; ~1 minute the first time, cached after
    driver = LocalNodeDriver()
    node = driver.create_node("web1", "small", None, ex_authorized_key=public_key,
                              ex_volumes=[{"name": "ephemeral0", "size_gb": 20}])   # -> /dev/xvdb
    # ssh -p node.extra["ssh_port"] root@127.0.0.1   (ex_ssh_user="admin": admin, with sudo; root gets no key)
    driver.destroy_node(node)                     # container, loop devices and backing files

Modules: driver (the NodeDriver), engine (the only docker SDK user), image and rootfs (the base image),
mirror (which Debian mirror: an override, the host's apt sources, deb.debian.org), drives (an instance's
volumes: files, loop devices, /dev links, persistence, restore after a host reboot), devices (loop devices),
login (a non-root SSH user), check (what this machine lacks).
"""

from __future__ import annotations

from typing import Any

from .check import missing_parts
from .image import BASE_TAG, ensure_base_image, state_dir

__all__ = ["BASE_TAG", "LocalNodeDriver", "ensure_base_image", "missing_parts", "register_with_libcloud", "state_dir"]


def register_with_libcloud() -> None:
    """Make `libcloud.compute.providers.get_driver("local")` return LocalNodeDriver."""
    from libcloud.compute.providers import set_driver

    try:
        # libcloud annotates module and class as objects; at run time it takes their dotted names
        set_driver("local", "stackscripts.providers.local.driver", "LocalNodeDriver")  # type: ignore[arg-type]
    except AttributeError:
        pass  # already registered


def __getattr__(name: str) -> Any:
    if name == "LocalNodeDriver":  # libcloud is imported only when the driver is wanted
        from .driver import LocalNodeDriver

        return LocalNodeDriver
    raise AttributeError(name)
