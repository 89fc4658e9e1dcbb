"""The remote side of a step without SSH: the tar stream and the fixed command, run under sh locally."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from stackscripts.errors import BadInput
from stackscripts.transport.remote import (
    RUN_DIR_PREFIX,
    build_bundle_tar,
    bundle_command,
    command_with_timeout,
    format_seconds,
    read_bundle_dir,
)
from tests.support.parts import require
from tests.support.procs import wait_gone

BundleMaker = Callable[..., Path]


def test_tar_members_modes_and_order(make_bundle: BundleMaker) -> None:
    bundle = make_bundle("true\n", env={"A": "1"}, attachments={"t.sh": (b"x", 0o750)})
    with tarfile.open(fileobj=io.BytesIO(build_bundle_tar(read_bundle_dir(bundle)))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        names = tar.getnames()
    assert set(names) == {"attachments", "attachments/t.sh", "env", "run.sh", "script"}
    assert names.index("attachments") < names.index("attachments/t.sh")
    assert members["env"].mode == 0o600  # 0644 on disk
    assert members["attachments/t.sh"].mode == 0o750
    assert members["script"].mode == 0o755
    assert all(m.uid == 0 and m.uname == "" for m in members.values())


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no run.sh"):
        build_bundle_tar(read_bundle_dir(tmp_path))


def test_command_holds_no_user_value(make_bundle: BundleMaker) -> None:
    """Two bundles that differ only in a secret get the very same command: it travels on stdin."""
    one = build_bundle_tar(read_bundle_dir(make_bundle("true\n", env={"TOKEN": "secret-one"})))
    two = build_bundle_tar(read_bundle_dir(make_bundle("true\n", env={"TOKEN": "secret-two"})))
    assert len(one) == len(two) and one != two
    command = bundle_command(len(one), 2.5)
    nonce = re.compile(r"stackscripts\.[0-9a-f]{16}")  # the run directory's random name
    assert nonce.sub("", command) == nonce.sub("", bundle_command(len(two), 2.5))
    assert command != bundle_command(len(one), 2.5), "each run directory gets a fresh name"
    assert "secret" not in command
    assert f"head -c {len(one)} " in command and "timeout -k 5 2.5 bash" in command
    assert bundle_command(10240, None).count("timeout -k 5 0 bash") == 1  # 0 = no limit
    with pytest.raises(ValueError):
        bundle_command(1, 0)
    with pytest.raises(ValueError):
        command_with_timeout("true", -1)
    assert command_with_timeout("echo 'a'", 3) == "timeout -k 5 3 sh -c 'echo '\"'\"'a'\"'\"'' </dev/null"


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30"), (0.5, "0.5"), (1e-5, "0"), (1.25, "1.25"), (90.0, "90")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


def _run_local(shell: str, bundle: Path, tmp_path: Path) -> tuple[int, bytes, bytes]:
    """Run the step command under `shell` locally, stdin held open until it ends (as over SSH)."""
    payload = build_bundle_tar(read_bundle_dir(bundle))
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        command = [shell, "-c", bundle_command(len(payload), 10)]
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=o, stderr=e)
        assert proc.stdin is not None
        with proc.stdin:
            proc.stdin.write(payload)
            proc.stdin.flush()
            code = proc.wait(timeout=30)
    return code, out.read_bytes(), err.read_bytes()


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_script_runs_under_posix_shells(shell: str, make_bundle: BundleMaker, tmp_path: Path) -> None:
    """The login shell may be dash or bash: unpack, load env, exit code, cleanup work under both."""
    require(shutil.which(shell) is not None, shell)
    bundle = make_bundle('pwd; load_env; printf "%s" "$V"; exit 4\n', env={"V": "a\nb $(x)"})
    code, stdout, stderr = _run_local(shell, bundle, tmp_path)
    assert code == 4, stderr
    run_dir, value = stdout.split(b"\n", 1)
    assert run_dir.decode().startswith(RUN_DIR_PREFIX)
    assert value == b"a\nb $(x)"
    assert stderr == b""
    assert not os.path.exists(run_dir)


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_step_stopped_when_stdin_closes(shell: str, make_bundle: BundleMaker) -> None:
    """sshd closes the command's stdin when the connection drops: the step is stopped, its dir removed."""
    require(shutil.which(shell) is not None, shell)
    marker = f"{os.getpid()}.{len(shell)}17"
    bundle = make_bundle(f"pwd; sleep 1{marker} & sleep 2{marker}; echo never\n")
    payload = build_bundle_tar(read_bundle_dir(bundle))
    proc = subprocess.Popen(
        [shell, "-c", bundle_command(len(payload), None)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(payload)
    proc.stdin.flush()
    run_dir = proc.stdout.readline().strip()
    assert os.path.isdir(run_dir)
    proc.stdin.close()  # what sshd does when the connection drops
    assert proc.wait(timeout=10) == 143
    assert b"never" not in proc.stdout.read()
    proc.stdout.close()
    assert not os.path.exists(run_dir)
    wait_gone(marker, 5)
