"""Providers launch and destroy instances. Only this package imports libcloud (and docker, for `local`)."""

from .base import Instance, LaunchSpec, Provider, providers

__all__ = ["Instance", "LaunchSpec", "Provider", "providers"]
