"""Signed manifests: a publisher signs a library's canonical manifest with an SSH key, as git does.

Signing and checking go through OpenSSH's own `ssh-keygen -Y sign` / `-Y verify` (no crypto here):
the signature is the armoured `-----BEGIN SSH SIGNATURE-----` text over the manifest's canonical
bytes, in the namespace `stackscripts-library`. Consumers list trusted keys per library namespace in
an allowed-signers file (OpenSSH's format: `PRINCIPAL KEYTYPE BASE64`, the principal being the
library namespace or `*`). A namespace that requires signatures refuses an unsigned or wrongly signed
library.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInput

SIG_NAMESPACE = "stackscripts-library"  # ssh-keygen's -n: a signature made for git cannot pass here
TIMEOUT = 30.0


@dataclass(frozen=True)
class Trust:
    """Who may sign the libraries of one namespace, and whether a signature is required."""

    namespace: str
    allowed_signers: Path
    required: bool = True


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise BadInput("ssh-keygen is not installed: it signs and checks library manifests",
                       hint="Install OpenSSH's client tools (apt-get install openssh-client).")
    return found


def sign(canonical: bytes, key: Path | str) -> str:
    """The armoured SSH signature of a manifest's canonical bytes, made with a private key file."""
    key_path = Path(key).expanduser()
    if not key_path.is_file():
        raise BadInput("no such signing key", file=str(key_path), hint="Pass the private key (e.g. ~/.ssh/id_ed25519).")
    with tempfile.TemporaryDirectory(prefix="stackscripts-sign-") as tmp:
        data = Path(tmp) / "manifest"
        data.write_bytes(canonical)
        done = subprocess.run([_ssh_keygen(), "-Y", "sign", "-q", "-f", str(key_path), "-n", SIG_NAMESPACE, str(data)],
                              capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        signature = Path(str(data) + ".sig")
        if done.returncode != 0 or not signature.is_file():
            detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise BadInput(f"cannot sign with this key: {detail}", file=str(key_path),
                           hint="Use an unencrypted OpenSSH private key, or load it into ssh-agent.")
        return signature.read_text()


def verify(canonical: bytes, signature: str | None, trust: Trust, *, source: str) -> bool:
    """True when a trusted key of the namespace signed these bytes; False when unsigned and not required.

    An unsigned library where signatures are required, or a signature that does not check out, is BadInput
    naming the source."""
    if not signature:
        if trust.required:
            raise BadInput(f"{source}: the library is not signed, and namespace {trust.namespace!r} requires a "
                           "signature", hint=f"Ask its publisher to publish it with --sign-key; trusted keys are "
                                             f"listed in {trust.allowed_signers}.")
        return False
    if not trust.allowed_signers.is_file():
        raise BadInput("no such allowed-signers file", file=str(trust.allowed_signers),
                       hint="List trusted keys as lines 'NAMESPACE ssh-ed25519 AAAA...'.")
    with tempfile.TemporaryDirectory(prefix="stackscripts-verify-") as tmp:
        sig = Path(tmp) / "manifest.sig"
        sig.write_text(signature)
        done = subprocess.run(
            [_ssh_keygen(), "-Y", "verify", "-f", str(trust.allowed_signers), "-I", trust.namespace,
             "-n", SIG_NAMESPACE, "-s", str(sig)],
            input=canonical, capture_output=True, timeout=TIMEOUT)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise BadInput(f"{source}: the library's signature does not check out for namespace {trust.namespace!r}"
                       f" ({detail[-1] if detail else 'rejected'})",
                       hint=f"The manifest was changed after signing, or the key is not in {trust.allowed_signers}.")
    return True
