"""The local cloud's base image: Debian debootstrapped on this machine, `docker import`ed, cached."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ...errors import CloudError
from . import mirror, rootfs
from .engine import Engine

ProgressCallback = Callable[[str], None]

SUITE = "bookworm"
BASE_TAG = f"stackscripts/debian:{SUITE}"
RECIPE_LABEL = "stackscripts.recipe"
DEFAULT_STATE_DIR = "/var/lib/stackscripts/local-cloud"
PACKAGES = (
    "openssh-server", "openssh-sftp-server", "iproute2", "iputils-ping", "procps", "ca-certificates", "curl", "gnupg",
    "less", "kmod", "util-linux", "e2fsprogs", "btrfs-progs", "iptables", "netcat-openbsd",
    "sudo", "python3-minimal", "xz-utils", "tzdata", "sysvinit-core",
)  # fmt: skip


def state_dir() -> Path:
    """Where the local cloud keeps backing files, locks and caches (STACKSCRIPTS_LOCAL_STATE overrides)."""
    return Path(os.environ.get("STACKSCRIPTS_LOCAL_STATE", DEFAULT_STATE_DIR))


def recipe_digest(suite: str = SUITE) -> str:
    """Changes whenever what goes into the image changes, so a stale cached image is rebuilt.

    The mirror is left out on purpose: any Debian mirror serves the same packages, and each instance's
    /etc/apt/sources.list is written when it is created (mirror.py), so a new mirror needs no rebuild.
    """
    text = "\n".join([suite, *PACKAGES, rootfs.INIT_SCRIPT, rootfs.SSHD_CONFIG, rootfs.ULIMIT_HOOK])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_base_image(
    on_progress: ProgressCallback | None = None,
    *,
    engine: Engine | None = None,
    tag: str = BASE_TAG,
    rebuild: bool = False,
) -> str:
    """Build the base image unless an up-to-date one is cached; returns its tag. Safe to call concurrently."""
    say = on_progress or (lambda _line: None)
    engine = engine or Engine()
    digest = recipe_digest()
    if not rebuild and _is_current(engine, tag, digest):
        return tag
    root = state_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".image.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another process is building {tag}; waiting for it ({root / '.image.lock'})")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not rebuild and _is_current(engine, tag, digest):
            return tag  # another process built it while we waited
        _build(engine, tag, digest, root, say)
    return tag


def _is_current(engine: Engine, tag: str, digest: str) -> bool:
    labels = engine.image_labels(tag)
    return labels is not None and labels.get(RECIPE_LABEL) == digest


def _build(engine: Engine, tag: str, digest: str, root: Path, say: ProgressCallback) -> None:
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not os.path.exists(debootstrap):
        raise CloudError(
            "local cloud: debootstrap is not installed, so the base image cannot be built.",
            hint="apt-get install -y debootstrap",
        )
    choice = mirror.choose(SUITE)
    cache = root / ".debootstrap-cache"
    cache.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="image-build-", dir=root))
    try:
        target = work / "rootfs"
        say(f"debootstrap {SUITE} from {choice.mirror} (from {choice.origin}) into {target}")
        _stream(
            _debootstrap_argv(debootstrap, choice.mirror, target, cache),
            say,
            f"debootstrap of {SUITE} from {choice.mirror} (from {choice.origin})",
            hint=f"Set {mirror.MIRROR_ENV} to a Debian mirror that serves {SUITE} and that this machine can reach.",
        )
        say("configuring the root filesystem (sshd, init, apt sources)")
        rootfs.configure(target, choice.sources(SUITE))
        tarball = work / "rootfs.tar"
        say(f"packing {tarball}")
        tar = ["tar", "--numeric-owner", "-C", str(target), "-cf", str(tarball), "."]
        _stream(tar, say, "tar of the root filesystem")
        say(f"importing {tarball} as image {tag}")
        changes = [
            f"CMD [\"{rootfs.INIT_PATH}\"]",
            "ENV LANG=C.UTF-8",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"LABEL {RECIPE_LABEL}={digest}",
            "LABEL stackscripts.managed-image=1",
        ]
        image_id = engine.import_tarball(str(tarball), tag, changes)
        say(f"built {tag} ({image_id[:19]})")
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)


def _debootstrap_argv(debootstrap: str, mirror_url: str, target: Path, cache: Path) -> list[str]:
    return [
        debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}",
        f"--cache-dir={cache}", SUITE, str(target), mirror_url,
    ]  # fmt: skip


def _stream(argv: list[str], say: ProgressCallback, what: str, hint: str | None = None) -> None:
    """Run a command, forwarding each output line to the progress callback; CloudError on failure."""
    tail: list[str] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                say(line)
                tail = (tail + [line])[-15:]
    if proc.returncode != 0:
        raise CloudError(f"local cloud: {what} failed (exit {proc.returncode}):\n" + "\n".join(tail), hint=hint)
