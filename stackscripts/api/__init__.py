"""The public Python API: what the CLI calls, and what Python users call."""

from .design import (
    Finding,
    catalog,
    lint,
    list_scripts,
    list_templates,
    load_template,
    plan,
    render_bundles,
    render_user_data,
    scaffold_script,
    show_script,
    template_inputs,
    unset_required,
    validate_template,
)

__all__ = [
    "Finding", "catalog", "lint", "list_scripts", "list_templates", "load_template", "plan", "render_bundles",
    "render_user_data", "scaffold_script", "show_script", "template_inputs", "validate_template", "unset_required",
]
