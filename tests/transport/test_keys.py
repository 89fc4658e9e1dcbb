"""Launch key pairs: one per deployment, made once even when a wave's servers ask for it at the same moment."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from stackscripts.transport.keys import ensure_keypair
from tests.support.cli import cli_env


def test_a_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    private, public = ensure_keypair("deployment-shop", tmp_path / "keys")
    assert private == tmp_path / "keys" / "deployment-shop.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.startswith("ssh-ed25519 AAAA") and public.endswith(" stackscripts-deployment-shop")
    key = serialization.load_ssh_private_key(private.read_bytes(), None)
    derived = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert public.split()[:2] == derived.decode().split()
    assert ensure_keypair("deployment-shop", tmp_path / "keys") == (private, public)  # the same pair again


def test_threads_asking_at_once_share_one_pair(tmp_path: Path) -> None:
    """A deployment wave launches its servers in parallel, all with the deployment's key."""
    results: list[tuple[Path, str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        try:
            results.append(ensure_keypair("deployment-wave", tmp_path))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(results)) == 1


def test_processes_asking_at_once_share_one_pair(tmp_path: Path) -> None:
    code = "import sys; from pathlib import Path; from stackscripts.transport.keys import ensure_keypair; " \
           "print(ensure_keypair('deployment-p', Path(sys.argv[1]))[1])"
    children = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=cli_env()) for _ in range(4)]
    answers = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0] * 4, answers
    assert len({out for out, _ in answers}) == 1


def test_a_private_key_without_its_public_half_is_completed(tmp_path: Path) -> None:
    private, public = ensure_keypair("half", tmp_path)
    (tmp_path / "half.pub").unlink()  # an earlier run stopped between the two files
    assert ensure_keypair("half", tmp_path) == (private, public)
