"""The versioned JSON envelope every face answers with: the CLI's --json and the dashboard's /api/v1.

    {"api_version": "stackscripts/v1", "command": "runs show", "ok": true, "data": {...}, "error": null}
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any

API_VERSION = "stackscripts/v1"


def jsonable(obj: Any) -> Any:
    """Plain JSON data from frozen values, paths, enums and mappings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name != "text"}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {str(jsonable(k)): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    return obj


def document(command: str, *, data: Any = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    """The envelope as a mapping: ok when there is no error."""
    return {"api_version": API_VERSION, "command": command, "ok": error is None, "data": jsonable(data),
            "error": error}


def envelope(command: str, *, data: Any = None, error: dict[str, Any] | None = None) -> str:
    """The envelope as the JSON text the CLI prints."""
    return json.dumps(document(command, data=data, error=error), indent=2, ensure_ascii=False)


def error_of(exc: BaseException, *, exit_code: int, kind: str | None = None) -> dict[str, Any]:
    """An error as the envelope carries it: its type, message (one paragraph), exit code and where (file, line,
    server) when it says."""
    error: dict[str, Any] = {"type": kind or type(exc).__name__, "message": str(exc), "exit_code": exit_code}
    for attr in ("file", "line", "server"):
        if getattr(exc, attr, None) is not None:
            error[attr] = getattr(exc, attr)
    return error


__all__ = ["API_VERSION", "document", "envelope", "error_of", "jsonable"]
