"""Signed manifests through OpenSSH's ssh-keygen -Y: trusted, tampered, unsigned, untrusted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.sources.signing import Trust, sign, verify
from tests.support.parts import require_binary

CANONICAL = b"stackscripts-manifest 1\n0755 " + b"a" * 64 + b" 12 install.sh\n"


def keypair(folder: Path, name: str) -> tuple[Path, str]:
    keygen = require_binary("ssh-keygen")
    key = folder / name
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (folder / f"{name}.pub").read_text().strip()


@pytest.fixture
def acme(tmp_path: Path) -> tuple[Path, Trust]:
    key, public = keypair(tmp_path, "publisher")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"acme {public}\n")
    return key, Trust("acme", allowed)


def test_a_trusted_signature_checks_out(acme: tuple[Path, Trust]) -> None:
    key, trust = acme
    signature = sign(CANONICAL, key)
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert verify(CANONICAL, signature, trust, source="git+file:///acme/base") is True


def test_tampered_bytes_are_refused(acme: tuple[Path, Trust]) -> None:
    key, trust = acme
    signature = sign(CANONICAL, key)
    with pytest.raises(BadInput, match="signature does not check out for namespace 'acme'"):
        verify(CANONICAL.replace(b"12", b"13"), signature, trust, source="oci://registry/acme/base")


def test_another_key_or_namespace_is_refused(acme: tuple[Path, Trust], tmp_path: Path) -> None:
    _, trust = acme
    stranger, _ = keypair(tmp_path, "stranger")
    with pytest.raises(BadInput, match="does not check out"):
        verify(CANONICAL, sign(CANONICAL, stranger), trust, source="s3://bucket/acme/base")
    other = Trust("globex", trust.allowed_signers)  # acme's key is not trusted for globex
    key, _ = acme
    with pytest.raises(BadInput, match="namespace 'globex'"):
        verify(CANONICAL, sign(CANONICAL, key), other, source="s3://bucket/globex/base")


def test_unsigned_is_refused_only_where_required(acme: tuple[Path, Trust]) -> None:
    _, trust = acme
    with pytest.raises(BadInput, match="not signed, and namespace 'acme' requires a signature"):
        verify(CANONICAL, None, trust, source="git+file:///acme/base")
    assert verify(CANONICAL, None, Trust("acme", trust.allowed_signers, required=False), source="x") is False


def test_a_missing_key_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such signing key"):
        sign(CANONICAL, tmp_path / "nope")
