"""One root exception and a shallow tree; failures carry their results."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import RunResult


class StackscriptsError(Exception):
    """Root of every error this package raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        joiner = " " if self.message.endswith((".", "!", "?", ":")) else ". "
        return f"{self.message}{joiner}{self.hint}"


class BadInput(StackscriptsError):
    """The user gave something malformed: a file, an input value, a name."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(where + message, hint=hint)
        self.file = file
        self.line = line


class NotFound(BadInput):
    """An unknown script, template, server, run or cloud."""


class ConnectionFailed(StackscriptsError):
    """A host could not be reached, refused the key, or dropped the connection."""

    exit_code = 2

    def __init__(self, message: str, *, server: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{server}: {message}" if server else message, hint=hint)
        self.server = server


class HostKeyMismatch(ConnectionFailed):
    """A host presented a key other than the one recorded for it."""


class CloudError(StackscriptsError):
    """A cloud API call failed."""

    exit_code = 2


class Conflict(StackscriptsError):
    """The operation clashes with the state of a server or run (locked, wrong state)."""

    exit_code = 2


class RunFailed(StackscriptsError):
    """A step or run failed; carries the run result."""

    exit_code = 1

    def __init__(self, message: str, result: RunResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class Unauthorized(StackscriptsError):
    """No valid API token: none given, or one unknown, revoked or expired (never saying which). The web app answers 401."""

    exit_code = 2
