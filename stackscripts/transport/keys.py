"""SSH key pairs for launched servers (one per deployment), kept 0600 in the state directory."""

from __future__ import annotations

import os
from pathlib import Path


def keys_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(os.environ.get("STACKSCRIPTS_KEYS_DIR") or Path(base) / "stackscripts" / "keys")


def ensure_keypair(name: str, folder: Path | None = None) -> tuple[Path, str]:
    """(private key path, public OpenSSH line), generating an ed25519 pair the first time.

    Safe to call at once from several threads and processes (the servers of a deployment wave share one key
    and launch in parallel): the first caller makes the pair under a lock, the others read it.
    """
    import fcntl

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder = folder or keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = folder / f"{name}.key"
    public = folder / f"{name}.pub"
    with open(folder / f".{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not private.exists():
            key = Ed25519PrivateKey.generate()
            data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                     serialization.NoEncryption())
            fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        if not public.exists():  # also when an earlier run stopped between the two files
            loaded = serialization.load_ssh_private_key(private.read_bytes(), None)
            line = loaded.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            public.write_text(line.decode() + f" stackscripts-{name}\n")
    return private, public.read_text().strip()
