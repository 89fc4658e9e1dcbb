"""SSH key pairs for launched servers (one per deployment), and server keys held as `cred:NAME` references.

Without a key backend a launch keeps its pair 0600 in the launcher's state directory and records the path. With
one (STACKSCRIPTS_KEY_BACKEND, else the project file's `keys:`), the private key goes into that credential
backend as `stackscripts-key-<name>` and the server records only `cred:stackscripts-key-<name>`: anyone whose
credential backends reach it (a colleague, a worker) can connect, and no copy stays on the launcher's disk.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInput

if TYPE_CHECKING:
    from ..inputs.creds import CredentialBackend, Credentials

REFERENCE = "cred:"
KEY_BACKEND_ENV = "STACKSCRIPTS_KEY_BACKEND"


def keys_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(os.environ.get("STACKSCRIPTS_KEYS_DIR") or Path(base) / "stackscripts" / "keys")


def is_reference(key: str | None) -> bool:
    return bool(key) and str(key).startswith(REFERENCE)


def key_cred_name(name: str) -> str:
    """The credential a launch stores the private key of `name` (a server or `deployment-NAME`) under."""
    return f"stackscripts-key-{name}"


def key_backend_name() -> str | None:
    """The team's key backend: $STACKSCRIPTS_KEY_BACKEND, else the project file's `keys:`, else None (files)."""
    configured = os.environ.get(KEY_BACKEND_ENV, "").strip()
    if configured:
        return configured
    from ..project import current

    found = current()
    return found.keys if found is not None else None


def _backend(name: str) -> CredentialBackend:
    from ..inputs.creds import credential_backends

    return credential_backends.get(name)()


def launch_key(name: str) -> tuple[str, str]:
    """(what the server record keeps as its key: a path or a cred: reference, the public OpenSSH line)."""
    backend = key_backend_name()
    if backend is None:
        path, public = ensure_keypair(name)
        return str(path), public
    return stored_keypair(name, _backend(backend))


def _new_private_key() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                      serialization.NoEncryption())


def _public_line(private: bytes, name: str) -> str:
    from cryptography.hazmat.primitives import serialization

    loaded = serialization.load_ssh_private_key(private, None)
    line = loaded.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return line.decode() + f" stackscripts-{name}"


def stored_keypair(name: str, backend: CredentialBackend) -> tuple[str, str]:
    """(cred: reference, public line) of the pair kept in `backend`, made and stored the first time.

    The servers of a wave share the key and launch at once: a lock orders this machine's threads and processes,
    and a create-only put settles a race with another machine (the loser uses the key that was stored)."""
    import fcntl

    cred = key_cred_name(name)
    folder = keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(folder / f".{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = backend.get(cred)
        if text is None:
            made = _new_private_key().decode()
            text = made if backend.put(cred, made, replace=False) else backend.get(cred)
        if text is None:
            raise BadInput(f"the key {cred} was stored in {backend.where(cred)} but cannot be read back",
                           hint="Check that your credentials may read what they write there.")
    try:
        public = _public_line(text.encode(), name)
    except (ValueError, TypeError):
        raise BadInput(f"{backend.where(cred)} holds {cred}, but it is not an unencrypted OpenSSH private key",
                       hint="Remove it there; the next launch stores a new one.") from None
    return REFERENCE + cred, public


def key_credentials(creds: Credentials | None = None) -> Credentials:
    """The configured credential backends, and the team's key backend after them when it is not among them."""
    from ..inputs.creds import Credentials

    creds = creds or Credentials()
    backend = key_backend_name()
    if backend and all(b.name != backend for b in creds.backends):
        return Credentials([*creds.backends, _backend(backend)])
    return creds


def private_key_text(server: str, reference: str, creds: Credentials | None = None) -> str:
    """The private key a server's `cred:NAME` reference names; BadInput naming the server when none has it."""
    cred = reference[len(REFERENCE):]
    found = key_credentials(creds)
    text = found.find(cred)
    if text is None:
        raise BadInput(f"server {server}: its SSH key {reference} was not found (looked in: {found.looked(cred)})",
                       hint="Reach the backend that holds it (STACKSCRIPTS_CRED_BACKENDS, the project file's "
                            "'credential backends' or 'keys'), or record another key with 'servers add --key'.")
    return text


def ensure_keypair(name: str, folder: Path | None = None) -> tuple[Path, str]:
    """(private key path, public OpenSSH line), generating an ed25519 pair the first time.

    Safe to call at once from several threads and processes (the servers of a deployment wave share one key
    and launch in parallel): the first caller makes the pair under a lock, the others read it.
    """
    import fcntl

    folder = folder or keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = folder / f"{name}.key"
    public = folder / f"{name}.pub"
    with open(folder / f".{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not private.exists():
            fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(_new_private_key())
        if not public.exists():  # also when an earlier run stopped between the two files
            public.write_text(_public_line(private.read_bytes(), name) + "\n")
    return private, public.read_text().strip()
