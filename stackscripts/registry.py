"""A tiny name registry for pluggable parts (transports, providers, stores, credential backends)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import NotFound

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to classes; entries may be registered lazily as "module:Class" strings."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, type[T] | str] = {}

    def register(self, name: str, target: type[T] | str) -> None:
        self._entries[name] = target

    def decorator(self, name: str) -> Callable[[type[T]], type[T]]:
        def wrap(cls: type[T]) -> type[T]:
            self.register(name, cls)
            return cls

        return wrap

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> type[T]:
        try:
            target = self._entries[name]
        except KeyError:
            raise NotFound(
                f"unknown {self.kind} {name!r}",
                hint=f"Known: {', '.join(self.names()) or 'none'}.",
            ) from None
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            target = getattr(importlib.import_module(module), attr)
            self._entries[name] = target
        return target
