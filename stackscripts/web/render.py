"""The dashboard's HTML: jinja2 templates shipped in templates/, autoescaped, with the filters pages share."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..api.output import human_size
from ..api.views import short
from ..reports.table import fmt

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def duration(start: float | None, end: float | None) -> str:
    """A step's or run's duration in the seed's style; '-' until it has both ends."""
    return fmt(end - start) if start and end else "-"


def seconds(value: float | None) -> str:
    return fmt(value)


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, short=short, size=human_size, seconds=seconds)
    env.globals.update(duration=duration)
    return env


class Renderer:
    """Renders a page by its template's name; the templates are read once."""

    def __init__(self) -> None:
        self.env = environment()

    def page(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(**context)


def markup(html: str) -> Markup:
    """HTML built and escaped by our own code (the reports' timeline), to be placed as it is."""
    return Markup(html)


def static_file(name: str) -> tuple[bytes, str] | None:
    """One of the app's own files (its script, its CSS) and its media type; None for any other name."""
    kinds = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png",
             ".svg": "image/svg+xml"}
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in kinds or not path.is_file():
        return None
    return path.read_bytes(), kinds[path.suffix]
