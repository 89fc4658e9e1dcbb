"""Configured clouds: `local` always; others from a 0600 clouds file or STACKSCRIPTS_CLOUD_* variables."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from . import files, yamlsrc
from .errors import BadInput, NotFound
from .providers.base import Provider, providers

FIELDS = ("PROVIDER", "DRIVER", "KEY", "SECRET", "REGION", "ENDPOINT")


def default_cloud() -> str:
    """The cloud a launch uses when none is named: the project file's `cloud`, else `local`."""
    from .project import current

    found = current()
    return found.cloud if found is not None and found.cloud else "local"


def clouds_file() -> Path:
    if os.environ.get("STACKSCRIPTS_CLOUDS"):
        return Path(os.environ["STACKSCRIPTS_CLOUDS"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "stackscripts" / "clouds.yaml"


def load_clouds() -> dict[str, dict[str, Any]]:
    """name -> config ({provider, driver, key, secret, region, options...}); credentials never come from templates."""
    clouds: dict[str, dict[str, Any]] = {"local": {"provider": "local"}}
    path = clouds_file()
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise BadInput(f"clouds file holds credentials but is readable by others (mode {mode:04o})",
                           file=str(path), hint=f"Run 'chmod 600 {path}'.")
        data = yamlsrc.load(files.read_text(path, "clouds file"), str(path)) or {}
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise BadInput("clouds file must map cloud names to settings", file=str(path), line=1,
                           hint="Write 'ec2:' then '  key: ...', '  secret: ...', '  region: us-east-1'.")
        for name, config in data.items():
            clouds[str(name)] = {k.lower(): v for k, v in config.items()}
    prefix = "STACKSCRIPTS_CLOUD_"
    for var, value in os.environ.items():
        if var.startswith(prefix):
            name, _, field = var[len(prefix):].rpartition("_")
            if name and field in FIELDS:
                clouds.setdefault(name.lower(), {})[field.lower()] = value
    for name, config in clouds.items():
        config.setdefault("provider", "ec2" if name.startswith("ec2") or config.get("driver") == "ec2" else
                          "local" if name == "local" else "libcloud")
    return clouds


def provider_for(cloud: str) -> Provider:
    clouds = load_clouds()
    if cloud not in clouds:
        raise NotFound(f"unknown cloud {cloud!r}",
                       hint=f"Configured: {', '.join(sorted(clouds))}. Add it to {clouds_file()} (mode 0600) "
                            f"or set STACKSCRIPTS_CLOUD_{cloud.upper()}_KEY/_SECRET/_REGION.")
    config = clouds[cloud]
    return providers.get(config["provider"])(cloud, config)
