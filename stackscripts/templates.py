"""ServerTemplate YAML (right_st keys plus the Settings extension), loaded strictly with file:line errors."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from . import files, yamlsrc
from .errors import BadInput
from .inputs.values import check_name, parse_value
from .model import CloudSettings, MultiCloudImage, Phase, ScriptRef, Template, VolumeSpec
from .revisions.refs import from_right_st

TOP_KEYS = ("Name", "Description", "Inputs", "RightScripts", "MultiCloudImages", "Alerts")
STEP_KEYS = ("Script", "Name", "Revision", "Publisher", "Timeout", "Retries", "Stage")
MAX_STAGE = 80  # characters of a Stage: a row label of the boot-time table
MAX_TIMEOUT = 7 * 24 * 3600
MAX_RETRIES = 10
IMAGE_KEYS = ("Name", "Revision", "Description", "Publisher", "Settings", "Tags")
SETTING_KEYS = ("Cloud", "Image", "Instance Type", "SSH User", "Volumes", "User Data", "Datacenter")
VOLUME_KEYS = ("Name", "Size", "Device", "Ephemeral")


def _bad(message: str, file: str, container: Any, key: Any = None, hint: str | None = None) -> BadInput:
    return BadInput(message, file=file, line=yamlsrc.line_of(container, key), hint=hint)


def _check_keys(data: dict, allowed: tuple[str, ...], file: str, what: str) -> None:
    for key in data:
        if key not in allowed:
            raise _bad(f"{what}: unknown key {key!r}", file, data, key, "Allowed keys: " + ", ".join(allowed) + ".")


def load_template(path: Path | str) -> Template:
    path = Path(path)
    file = str(path)
    if not path.exists() and not path.is_symlink():
        raise BadInput("no such template file", file=file, hint="Check the path (templates live in servertemplates/).")
    raw = files.read_bytes(path, "template", hint="Name a .yaml file.")
    text = files.decode_utf8(raw, file, "template")
    data = yamlsrc.load(text, file)
    if data is None:
        raise BadInput("the template is empty", file=file, line=1,
                       hint="Start with 'Name: My Template' and 'RightScripts:'.")
    if not isinstance(data, dict):
        first = next((n for n, line in enumerate(text.split("\n"), 1)
                      if line.strip() and not line.lstrip().startswith("#")), 1)
        raise BadInput("a ServerTemplate must be a YAML mapping", file=file, line=yamlsrc.line_of(data) or first,
                       hint="Start with 'Name: My Template' and 'RightScripts:'.")
    _check_keys(data, TOP_KEYS, file, "ServerTemplate")
    name = data.get("Name")
    if name is not None and not isinstance(name, str):
        raise _bad("'Name' must be text", file, data, "Name", "Quote it, e.g. 'Name: \"2024\"'.")
    if not isinstance(name, str) or not name.strip():
        raise _bad("missing 'Name'", file, data, "Name", "Add 'Name: My Template' at the top.")
    description = data.get("Description")
    if description is not None and not isinstance(description, str):
        raise _bad("'Description' must be text", file, data, "Description", "Quote it.")
    inputs, input_lines = _inputs(data.get("Inputs"), file, data)
    return Template(
        name=name.strip(), path=path, description=description, inputs=inputs, input_lines=input_lines,
        phases=_phases(data.get("RightScripts"), file, data), images=_images(data.get("MultiCloudImages"), file, data),
        alerts=tuple(_alerts(data.get("Alerts"), file, data)), sha256=hashlib.sha256(raw).hexdigest(),
    )


def _inputs(raw: Any, file: str, parent: dict[str, Any]) -> tuple[dict[str, str], dict[str, int | None]]:
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        raise _bad("'Inputs' must map input names to values", file, parent, "Inputs",
                   "Write 'Inputs:' then lines like '  DOCKER_PACKAGE: text:docker.io'.")
    lines: dict[str, int | None] = {}
    for name, value in raw.items():
        line = yamlsrc.line_of(raw, name)
        check_name(name, file=file, line=line)
        parse_value(value, file=file, line=line, name=name)
        lines[name] = line
    return dict(raw), lines


def _phases(raw: Any, file: str, parent: dict) -> dict[Phase, tuple[ScriptRef, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("'RightScripts' must map phases to lists of scripts", file, parent, "RightScripts",
                   "Write 'RightScripts:' with 'Boot:', 'Operational:' and 'Decommission:' lists.")
    phases: dict[Phase, tuple[ScriptRef, ...]] = {}
    for key, entries in raw.items():
        if key not in ("Boot", "Operational", "Decommission"):
            raise _bad(f"unknown phase {key!r}", file, raw, key, "Phases are Boot, Operational and Decommission.")
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise _bad(f"phase {key} must be a list of scripts", file, raw, key, "Write '- ../scripts/name.sh' items.")
        phases[Phase(key)] = tuple(_step(entry, file, entries, i) for i, entry in enumerate(entries))
    return phases


def _step(entry: Any, file: str, parent: list, index: int) -> ScriptRef:
    line = yamlsrc.line_of(parent, index)
    if isinstance(entry, str) and entry.strip():
        return ScriptRef(ref=entry.strip(), line=line)
    if entry is None or entry == "":
        raise BadInput("empty script entry", file=file, line=line,
                       hint="Write a path after the '-' ('- ../scripts/x.sh'), or remove the line.")
    if not isinstance(entry, dict):
        raise BadInput(f"invalid script entry {entry!r}", file=file, line=line,
                       hint="Write a path ('- ../scripts/x.sh'), or a map with Script (or Name) and optional Timeout, Retries.")
    _check_keys(entry, STEP_KEYS, file, "script entry")
    ref = entry.get("Script") or entry.get("Name")
    if not isinstance(ref, str) or not ref.strip():
        raise BadInput("script entry without Script or Name", file=file, line=line,
                       hint="Add 'Script: ../scripts/x.sh' or 'Name: Install Docker'.")
    timeout = entry.get("Timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not 0 < timeout <= MAX_TIMEOUT):  # also refuses .nan and .inf
        raise _bad(f"Timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:,} (a week), "
                   f"not {timeout!r}", file, entry, "Timeout", "Write 'Timeout: 600'.")
    retries = entry.get("Retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise _bad(f"Retries must be a whole number from 0 to {MAX_RETRIES}, not {retries!r}", file, entry, "Retries",
                   "Write 'Retries: 2'.")
    stage = entry.get("Stage")
    if stage is not None and (not isinstance(stage, str) or not stage.strip() or len(stage.strip()) > MAX_STAGE
                              or "\n" in stage.strip()):
        raise _bad(f"Stage must be a one-line label of 1 to {MAX_STAGE} characters, not {stage!r}", file, entry, "Stage",
                   "Write 'Stage: Install and launch the services' (steps with the same Stage share a report row).")
    revision, publisher = entry.get("Revision"), entry.get("Publisher")
    if publisher is not None:  # right_st's {Name, Revision, Publisher}: resolved through the project's libraries
        parsed = from_right_st(ref, revision if revision is not None else "", publisher, file=file,
                               line=yamlsrc.line_of(entry, "Publisher"))
        publisher, revision = parsed.namespace, parsed.version or None
    return ScriptRef(ref=ref.strip(), line=line, revision=None if revision is None else str(revision),
                     timeout=float(timeout) if timeout else None, retries=retries, publisher=publisher,
                     stage=stage.strip() if stage else None)


def _images(raw: Any, file: str, parent: dict) -> tuple[MultiCloudImage, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad("'MultiCloudImages' must be a list", file, parent, "MultiCloudImages",
                   "Write '- Name: Debian 12' items; the first is the default.")
    images = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise BadInput("a MultiCloud image needs a Name", file=file, line=yamlsrc.line_of(raw, index),
                           hint="Write '- Name: Debian 12'.")
        _check_keys(item, IMAGE_KEYS, file, "MultiCloud image")
        settings = item.get("Settings") or []
        if not isinstance(settings, list):
            raise _bad("'Settings' must be a list of clouds", file, item, "Settings", "Write '- Cloud: local' items.")
        images.append(MultiCloudImage(
            name=item["Name"], description=item.get("Description"),
            revision=None if item.get("Revision") is None else str(item["Revision"]),
            settings=tuple(_setting(s, file, settings, i) for i, s in enumerate(settings)),
        ))
    return tuple(images)


def _setting(raw: Any, file: str, parent: list, index: int) -> CloudSettings:
    if not isinstance(raw, dict):
        raise BadInput("a cloud setting must be a mapping", file=file, line=yamlsrc.line_of(parent, index),
                       hint="Write '- Cloud: local' with Image, Instance Type, SSH User, Volumes.")
    _check_keys(raw, SETTING_KEYS, file, "cloud setting")
    for key in ("Cloud", "Image"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _bad(f"cloud setting without {key}", file, raw, key if key in raw else None,
                       f"Add '{key}: ...' (e.g. Cloud: local, Image: stackscripts/debian:bookworm).")
    for key in ("Instance Type", "SSH User", "User Data", "Datacenter"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise _bad(f"cloud setting: {key} must be text, not {raw[key]!r}", file, raw, key,
                       f"Write '{key}: ...' with a single value (quote it if it looks like a number).")
    provider, _, region = raw["Cloud"].strip().partition(" ")
    volumes = raw.get("Volumes") or []
    if not isinstance(volumes, list):
        raise _bad("'Volumes' must be a list", file, raw, "Volumes", "Write '- {Name: data, Size: 10}' items.")
    return CloudSettings(
        cloud=provider.lower(), region=region.strip() or None, image=raw["Image"].strip(),
        instance_type=raw.get("Instance Type"), ssh_user=str(raw.get("SSH User") or "root"),
        volumes=tuple(_volume(v, file, volumes, i) for i, v in enumerate(volumes)),
    )


def _volume(raw: Any, file: str, parent: list, index: int) -> VolumeSpec:
    line = yamlsrc.line_of(parent, index)
    if not isinstance(raw, dict):
        raise BadInput("a volume must be a mapping", file=file, line=line, hint="Write '- {Name: data, Size: 10}'.")
    _check_keys(raw, VOLUME_KEYS, file, "volume")
    size = raw.get("Size")
    if not isinstance(raw.get("Name"), str) or not raw["Name"].strip():
        raise _bad("a volume needs a Name", file, raw, "Name" if "Name" in raw else None,
                   "Write '- {Name: data, Size: 10, Device: /dev/xvdb}'.")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise _bad(f"volume {raw['Name']}: Size must be a whole number of GB > 0, not {size!r}", file, raw,
                   "Size" if "Size" in raw else None, "Write 'Size: 10' (GB).")
    if raw.get("Device") is not None and not isinstance(raw["Device"], str):
        raise _bad(f"volume: Device must be a device path, not {raw['Device']!r}", file, raw, "Device",
                   "Write 'Device: /dev/xvdb'.")
    if "Ephemeral" in raw and not isinstance(raw["Ephemeral"], bool):
        raise _bad("volume: Ephemeral must be true or false", file, raw, "Ephemeral", "Write 'Ephemeral: true'.")
    return VolumeSpec(name=raw["Name"], size_gb=size, device=raw.get("Device"), ephemeral=bool(raw.get("Ephemeral", True)))


def _alerts(raw: Any, file: str, parent: dict) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise _bad("'Alerts' must be a list of alert specs", file, parent, "Alerts", "Write 'Alerts: []' if there are none.")
    return [dict(a) for a in raw]
