"""What this machine lacks to run the local cloud (for `doctor`-style checks and test fixtures)."""

from __future__ import annotations

import os
import shutil

from ...errors import CloudError
from .engine import Engine
from .image import BASE_TAG, RECIPE_LABEL, recipe_digest


def missing_parts(*, need_image_build: bool | None = None) -> list[str]:
    """Human-readable names of missing parts; empty when instances can be launched here."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (loop devices and system containers need it)")
    if shutil.which("losetup") is None and not os.path.exists("/usr/sbin/losetup"):
        missing.append("losetup (apt-get install util-linux)")
    if not os.path.exists("/dev/loop-control"):
        missing.append("/dev/loop-control (modprobe loop)")
    try:
        engine = Engine()
    except CloudError:
        url = os.environ.get("DOCKER_HOST") or "/var/run/docker.sock"
        return missing + [f"Docker engine at {url} (apt-get install docker.io; .ci/dockerd.sh)"]
    if need_image_build is None:
        labels = engine.image_labels(BASE_TAG)
        need_image_build = labels is None or labels.get(RECIPE_LABEL) != recipe_digest()
    if need_image_build and shutil.which("debootstrap") is None and not os.path.exists("/usr/sbin/debootstrap"):
        missing.append("debootstrap (apt-get install debootstrap), to build the base image")
    return missing
