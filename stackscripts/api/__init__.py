"""The public Python API: what the CLI calls, and what Python users call.

Design-time functions (scripts, templates, inputs, rendering) live in `api.design` and are
re-exported here lazily; running things goes through `api.controller.Controller`,
`api.launcher.Launcher`, `api.fleet` and `api.deploy`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "Finding", "catalog", "lint", "list_scripts", "list_templates", "load_template", "plan", "render_bundles",
    "render_user_data", "scaffold_script", "show_script", "template_inputs", "unset_required", "validate_template",
]


def __getattr__(name: str) -> Any:
    if name in __all__:  # import the design layer only when it is used (keeps `boot` start-up lean)
        return getattr(import_module(".design", __name__), name)
    raise AttributeError(name)
