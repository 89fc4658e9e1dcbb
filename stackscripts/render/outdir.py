"""`templates render -o DIR`: every bundle is written into a temporary folder beside DIR, then moved into place.

A step that fails to render (a `.j2` attachment with an undefined variable, a NUL byte in a value) leaves nothing
behind: no half-written DIR, no parent folder made for it. DIR may be new, empty, or hold the bundles of an earlier
render (it is then replaced as a whole); anything else is refused rather than overwritten.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import BadInput
from ..model import PlannedStep
from .bundle import bundle_dirname, write_bundle

_BUNDLE_NAME = re.compile(r"^\d{2,}-")
_HINT = "Name a new folder (it is created 0700), an empty one, or one that holds the bundles of an earlier render."


def write_bundles(steps: Sequence[tuple[PlannedStep, Mapping[str, str]]], out_dir: Path | str) -> list[Path]:
    """Write one bundle per (step, environment) into out_dir, all or nothing; returns the bundle folders."""
    out = Path(out_dir)
    _check_target(out)
    made = _make_parent(out)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        _remove(made)
        raise BadInput(f"cannot write into {out.parent}: {exc.strerror}", file=str(out), hint=_HINT) from None
    try:
        for step, env in steps:
            write_bundle(step, env, tmp / bundle_dirname(step))
        _move_into_place(tmp, out)
    except BaseException:
        _remove(tmp)
        _remove(made)
        raise
    return [out / bundle_dirname(step) for step, _ in steps]


def _check_target(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BadInput("exists and is not a folder", file=str(out), hint=_HINT)
    if out.is_dir() and not all(_is_bundle(entry) for entry in out.iterdir()):
        raise BadInput("is a folder that holds other files than the bundles of an earlier render, "
                       "and render -o replaces the whole folder", file=str(out), hint=_HINT)


def _is_bundle(entry: Path) -> bool:
    return entry.is_dir() and not entry.is_symlink() and bool(_BUNDLE_NAME.match(entry.name)) and \
        (entry / "manifest.json").is_file()


def _make_parent(out: Path) -> Path | None:
    """Create out's missing parent folders; the topmost one created (to remove on failure), or None."""
    missing = [p for p in [out.parent, *out.parent.parents] if not p.exists()]
    for ancestor in [out.parent, *out.parent.parents]:
        if ancestor.exists() and not ancestor.is_dir():
            raise BadInput(f"{ancestor} is not a folder", file=str(out), hint=_HINT)
        if ancestor.exists():
            break
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {out.parent}: {exc.strerror}", file=str(out), hint=_HINT) from None
    return missing[-1] if missing else None


def _move_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    os.rename(out, old / "previous")  # a rename within one folder: the old bundles vanish in one step
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old / "previous", out)
        raise
    finally:
        _remove(old)


def _remove(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
