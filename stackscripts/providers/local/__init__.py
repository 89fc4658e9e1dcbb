"""The local cloud: a libcloud NodeDriver whose instances are Docker system containers on this machine."""

from __future__ import annotations

from .image import BASE_TAG, ensure_base_image, state_dir

__all__ = ["BASE_TAG", "LocalNodeDriver", "ensure_base_image", "state_dir"]


def __getattr__(name: str) -> object:
    if name == "LocalNodeDriver":  # libcloud is imported only when the driver is wanted
        from .driver import LocalNodeDriver

        return LocalNodeDriver
    raise AttributeError(name)
