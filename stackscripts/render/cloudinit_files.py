"""The files a cloud-init boot writes: the runner and every step's bundle, each distinct file once.

Layout under the cloud-init root on the instance:

    runner.sh              0700  render/cloudinit_runner.sh with the steps appended
    blobs/SHA256           0600  a file that several bundles hold, written once
    steps/NN-stem/...            each step's bundle (render/bundle.py) without its shared files

A step's `env` file is never shared: it goes with its bundle as soon as the step ends. Empty folders
(`attachments/`, `work/`) are not written (the wrapper makes them, 0700), nor is `manifest.json`.
"""

from __future__ import annotations

import hashlib
import shlex
from collections import Counter
from collections.abc import Mapping
from importlib import resources

from ..errors import BadInput
from ..model import Plan
from .bundle import ENV_FILE, bundle_dirname, bundle_files
from .cloudinit_secrets import SecretPolicy

BundleFiles = dict[str, tuple[int, bytes]]  # relative path -> (mode, bytes); folders end with "/"
RUNNER = "runner.sh"
MANIFEST = "manifest.json"  # left out: nothing on the instance reads it, and user-data is scarce


def _seconds(value: float | None) -> str:
    """A Timeout as `timeout` takes it: "0" (no limit), "900", "0.5"."""
    if not value:
        return "0"
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0.001"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def step_bundles(plan: Plan, envs: Mapping[int, Mapping[str, str]], policy: SecretPolicy) -> dict[str, BundleFiles]:
    """Each step's bundle by folder name; a .j2 attachment that needs a secret fetched at boot is refused."""
    bundles = {}
    for step in plan.steps:
        try:
            bundles[bundle_dirname(step)] = bundle_files(step, envs[step.index])
        except BadInput as exc:
            used = [name for name, _ in policy.fetched(step) if f"'{name}'" in exc.message]
            if not used:
                raise
            raise BadInput(
                f"step {step.name!r}: a .j2 attachment uses {used[0]}, which --creds-on-instance fetches only on the "
                "instance at boot, after attachments are rendered", file=str(plan.template.path),
                hint="Read the value from the environment in the script instead, or pass --include-secrets without "
                     "--creds-on-instance.") from None
    return bundles


def shared_files(bundles: Mapping[str, BundleFiles]) -> set[str]:
    """sha256 of every file that more than one bundle place holds (env files excepted)."""
    counts = Counter(_sha(data) for files in bundles.values()
                     for rel, (_, data) in files.items() if not rel.endswith("/") and rel not in (ENV_FILE, MANIFEST))
    return {digest for digest, count in counts.items() if count > 1}


def _is_shared(rel: str, data: bytes, shared: set[str]) -> bool:
    return not rel.endswith("/") and rel != ENV_FILE and _sha(data) in shared


def _compact(script: str) -> str:
    """The runner without its comment lines (documented in the source; user-data is scarce)."""
    lines = script.splitlines(keepends=True)
    kept = [line for line in lines[1:] if not line.lstrip().startswith("#")]
    return lines[0] + "# stackscripts cloud-init runner (stackscripts/render/cloudinit_runner.sh)\n" + "".join(kept)


def runner_text(plan: Plan, bundles: Mapping[str, BundleFiles], shared: set[str], policy: SecretPolicy) -> str:
    """The runner: its fixed part, then per step `begin`, `share`s, `cred`s and `run` (names quoted)."""
    template = _compact(resources.files(__package__).joinpath("cloudinit_runner.sh").read_text("utf-8"))
    source = policy.on_instance
    lines = []
    for step in plan.steps:
        folder = bundle_dirname(step)
        lines.append(f"begin {step.index + 1} {shlex.quote(folder)} {shlex.quote(step.name)}")
        lines += [f"share {shlex.quote(rel)} {mode:04o} {_sha(data)}"
                  for rel, (mode, data) in sorted(bundles[folder].items()) if _is_shared(rel, data, shared)]
        lines += [f"cred {name} {shlex.quote(cred)}" for name, cred in policy.fetched(step)]
        lines.append(" ".join(["run", _seconds(step.timeout), str(step.retries), *policy.secret_names(step)]))
    return (template.replace("__TOTAL__", str(len(plan.steps)))
            .replace("__CREDS_FROM__", shlex.quote(source.source if source else ""))
            .replace("__CREDS_PREFIX__", shlex.quote(source.prefix if source else ""))
            .replace("__STEPS__\n", "".join(line + "\n" for line in lines)))


def boot_files(plan: Plan, envs: Mapping[int, Mapping[str, str]], policy: SecretPolicy) -> BundleFiles:
    """Path relative to the cloud-init root -> (mode, bytes): the runner, the shared files, the bundles."""
    bundles = step_bundles(plan, envs, policy)
    shared = shared_files(bundles)
    files: BundleFiles = {RUNNER: (0o700, runner_text(plan, bundles, shared, policy).encode("utf-8"))}
    for folder, bundle in bundles.items():
        for rel, (mode, data) in bundle.items():
            if rel.endswith("/") or rel == MANIFEST:
                continue
            if _is_shared(rel, data, shared):
                files[f"blobs/{_sha(data)}"] = (0o600, data)
            else:
                files[f"steps/{folder}/{rel}"] = (mode, data)
    return files
