"""A boot plan as cloud-init user-data: the runner and the bundles as write_files, a size check, gzip.

The `#cloud-config` document writes the runner (render/cloudinit_runner.sh) and every step's bundle,
each distinct file once (render/cloudinit_files.py), as readable text where YAML keeps it byte-exact
(base64 otherwise), and one fixed `runcmd` runs the runner. Clouds cap user-data (EC2: 16384 bytes,
before its base64 transport encoding): the size is checked, and the whole document may be
gzip-compressed, which cloud-init accepts as user-data.
"""

from __future__ import annotations

import base64
import gzip as gzip_lib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import BadInput, StackscriptsError
from ..model import Plan
from .bundle import ENV_FILE
from .cloudinit_files import RUNNER, boot_files
from .cloudinit_secrets import SecretPolicy

ROOT = "/var/lib/stackscripts/cloud-init"
LOG_DIR = "/var/log/stackscripts"
EC2_USER_DATA_LIMIT = 16384  # bytes of raw user-data RunInstances accepts
WIDTH = 1_000_000  # no folding: long lines stay as they are


@dataclass(frozen=True)
class UserData:
    """Rendered user-data: `data` is what goes to the cloud (the text, or its gzip when gzip is set)."""

    text: str
    data: bytes
    gzip: bool
    max_size: int | None  # the limit it was checked against; None: not checked
    notes: tuple[str, ...] = ()  # what the user must know (secrets embedded, what the instance needs)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text_size(self) -> int:
        return len(self.text.encode("utf-8"))

    @property
    def gzip_size(self) -> int:
        return len(self.data) if self.gzip else len(_gzip(self.text.encode("utf-8")))

    def describe(self) -> str:
        """One line for people: "user-data: 15,382 bytes gzip-compressed, limit 16,384 bytes (EC2's)"."""
        what = f"user-data: {self.size:,} bytes" + (" gzip-compressed" if self.gzip else f" (gzip: {self.gzip_size:,})")
        return what + (f", limit {limit_name(self.max_size)}" if self.max_size else ", no size limit checked")


def limit_name(max_size: int) -> str:
    return f"{max_size:,} bytes" + (" (EC2's)" if max_size == EC2_USER_DATA_LIMIT else "")


def _gzip(data: bytes) -> bytes:
    return gzip_lib.compress(data, compresslevel=9, mtime=0)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Dumper(yaml.SafeDumper):
    """Multi-line text as literal blocks (PyYAML falls back to quoting where a block cannot hold it)."""


def _text(dumper: yaml.SafeDumper, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def _as_text(data: bytes) -> str | None:
    """The file as YAML text when YAML gives it back byte for byte, else None (then it goes base64)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if yaml.safe_load(yaml.dump(text, Dumper=_Dumper, width=WIDTH, allow_unicode=True)) == text else None


def _entry(path: str, mode: int, data: bytes, secrets: bool) -> dict[str, str]:
    """A write_files entry; with secrets embedded (--include-secrets) env files stay base64, so that a secret is not
    there at a glance; else text where YAML keeps it exact (an env file's NULs as "\\0": 1 KB less in the flagship)."""
    entry = {"path": path, "permissions": f"{mode:04o}", "owner": "root:root"}
    text = None if secrets and path.endswith(f"/{ENV_FILE}") else _as_text(data)
    if text is not None:
        entry["content"] = text
    else:
        entry |= {"encoding": "b64", "content": base64.b64encode(data).decode("ascii")}
    return entry


def user_data_text(plan: Plan, envs: Mapping[int, Mapping[str, str]], policy: SecretPolicy) -> str:
    files = boot_files(plan, envs, policy)
    doc = {"write_files": [_entry(f"{ROOT}/{rel}", mode, data, policy.include_secrets)
                           for rel, (mode, data) in files.items()],
           "runcmd": [["bash", f"{ROOT}/{RUNNER}"]]}
    header = (f"#cloud-config\n# ServerTemplate: {_one_line(plan.template.name)} ({plan.phase.value}, "
              f"{len(plan.steps)} steps), rendered by stackscripts: {RUNNER} runs the steps in order, output in "
              f"{LOG_DIR},\n# a line per step start and end in /var/log/cloud-init-output.log "
              "(\"stackscripts: step N/M ...\").\n")
    text = header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=WIDTH, allow_unicode=True)
    _check_round_trip(text, doc)
    return text


def _check_round_trip(text: str, doc: dict[str, Any]) -> None:
    """cloud-init reads the document with PyYAML too: every file must come back byte for byte."""
    if yaml.safe_load(text) != doc:
        raise StackscriptsError("internal error: the cloud-init document does not read back as written")


def render_cloud_init(plan: Plan, envs: Mapping[int, Mapping[str, str]], policy: SecretPolicy | None = None, *,
                      max_size: int | None = None, gzip: bool = False) -> UserData:
    """envs maps a step index to the environment embedded for it (policy.embedded's inputs).

    Refuses (BadInput) a secret the policy cannot carry, and user-data over max_size bytes."""
    policy = policy or SecretPolicy(include_secrets=True)
    policy.check(plan)
    if max_size is not None and max_size <= 0:
        raise BadInput(f"the user-data size limit must be a positive number of bytes, not {max_size}",
                       hint=f"EC2 accepts {EC2_USER_DATA_LIMIT} bytes; pass 0 on the command line for no limit.")
    text = user_data_text(plan, envs, policy)
    result = UserData(text, _gzip(text.encode("utf-8")) if gzip else text.encode("utf-8"), gzip, max_size,
                      tuple(policy.notes(plan)))
    if max_size is not None and result.size > max_size:
        raise BadInput(f"the user-data is {result.size:,} bytes{' gzip-compressed' if gzip else ''}, over the limit of "
                       f"{limit_name(max_size)}: a cloud with that limit refuses to launch the instance",
                       file=str(plan.template.path), hint=_over_hint(result, max_size))
    return result


def _over_hint(result: UserData, max_size: int) -> str:
    if not result.gzip and result.gzip_size <= max_size:
        return (f"Pass --gzip: compressed it is {result.gzip_size:,} bytes, and cloud-init accepts gzip "
                "user-data.")
    return ("Ship less at boot (fewer or smaller scripts and attachments; run the rest over SSH once the "
            "server is up), or pass --max-size BYTES for a cloud that accepts more (0: no limit).")
