"""The remote side of the steps without SSH: the tar stream and the step runner, run under dash and bash locally."""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import stackscripts.transport.runner as runner_module
from stackscripts.errors import BadInput
from stackscripts.transport.remote import (
    KILL_AFTER,
    RUN_DIR_PREFIX,
    build_bundle_tar,
    command_with_timeout,
    format_seconds,
    read_bundle_dir,
)
from stackscripts.transport.runner import SCRIPT, runner_command
from tests.support.parts import require, require_binary
from tests.support.procs import kill_matching, wait_gone

pytestmark = pytest.mark.timeout(60)

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


def test_tar_under_a_root_folder(make_bundle: BundleMaker) -> None:
    """The runner's tar makes the run directory itself: a 0700 root member first, everything under it."""
    files = read_bundle_dir(make_bundle("true\n", env={"A": "1"}, attachments={"t.sh": (b"x", 0o750)}))
    with tarfile.open(fileobj=io.BytesIO(build_bundle_tar(files, root="stackscripts.00ff"))) as tar:
        members = tar.getmembers()
    assert members[0].name == "stackscripts.00ff" and members[0].isdir() and members[0].mode == 0o700
    assert all(m.name.startswith("stackscripts.00ff/") for m in members[1:])
    assert {m.name: m.mode for m in members}["stackscripts.00ff/env"] == 0o600


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no run.sh"):
        build_bundle_tar(read_bundle_dir(tmp_path))


def test_commands_hold_no_user_value() -> None:
    """The runner's command is fixed text; a step's values travel on its stdin, inside the tar stream."""
    assert runner_command() == runner_command() and SCRIPT in runner_command().replace("'\"'\"'", "'")
    assert runner_command().startswith("exec /bin/sh -c '")
    assert f"timeout -k {KILL_AFTER} " in SCRIPT  # the runner's grace before SIGKILL is the transport's
    with pytest.raises(ValueError):
        command_with_timeout("true", -1)
    assert command_with_timeout("echo 'a'", 3) == "timeout -k 5 3 sh -c 'echo '\"'\"'a'\"'\"'' </dev/null"


@pytest.mark.parametrize("checker", [["dash", "-n"], ["bash", "-n"], ["shellcheck", "-s", "sh"]])
def test_runner_script_is_clean(checker: list[str]) -> None:
    path = Path(runner_module.__file__).with_name("runner.sh")
    done = subprocess.run([require_binary(checker[0]), *checker[1:], str(path)], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("seconds", "text"), [(30, "30"), (0.5, "0.5"), (1e-5, "0"), (1.25, "1.25"), (90.0, "90")]
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text


class LocalRunner:
    """runner.sh under a local shell, driven as the SSH transport drives it (frames in, markers out)."""

    def __init__(self, shell: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([shell, "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0, env=env)
        self.out = bytearray()
        self.err = bytearray()

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError:  # the runner exited (what a bad frame makes it do)
            pass

    def start(self, bundle: Path, seconds: str = "0") -> str:
        """Send one step; its mark."""
        name, mark = secrets.token_hex(8), secrets.token_hex(16)
        payload = build_bundle_tar(read_bundle_dir(bundle), root=f"stackscripts.{name}")
        self.send(f"step {len(payload)} {seconds} {name} {mark}\n".encode() + payload)
        return mark

    def _buffer(self, stream: str) -> bytearray:
        return self.out if stream == "stdout" else self.err

    def _more(self, stream: str) -> None:
        pipe = self.proc.stdout if stream == "stdout" else self.proc.stderr
        assert pipe is not None
        data = os.read(pipe.fileno(), 65536)
        assert data, f"{stream} ended: {bytes(self._buffer(stream))!r}"
        self._buffer(stream).extend(data)

    def read_until(self, stream: str, needle: bytes) -> bytes:
        """Read a stream until needle arrived; everything read so far on it."""
        while needle not in self._buffer(stream):
            self._more(stream)
        return bytes(self._buffer(stream))

    def finish(self, mark: str) -> tuple[int, bytes, bytes]:
        """Read the step to its end: (exit code, stdout, stderr) between its markers; then say done."""
        start, end = b"\x1e" + mark.encode() + b"<", b"\x1e" + mark.encode() + b">"
        got: dict[str, bytes] = {}
        codes = set()
        for name in ("stderr", "stdout"):
            while b"\n" not in self.read_until(name, end).split(end, 1)[1]:
                self._more(name)
            before, after = bytes(self._buffer(name)).split(end, 1)
            code, rest = after.split(b"\n", 1)
            codes.add(int(code))
            got[name] = before.split(start, 1)[1]
            self._buffer(name)[:] = rest
        self.send(b"done\n")
        assert len(codes) == 1, codes
        return codes.pop(), got["stdout"], got["stderr"]

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        return code


OTHER_TAR = """#!/bin/sh
case "$1" in --version) echo "tar (not GNU's) 1.0"; exit 0 ;; esac
exec "$REAL_TAR" "$@"
"""


@pytest.fixture(params=["dash", "bash", "dash, a tar that is not GNU's"])
def local_runner(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRunner]:
    """The runner under dash and bash (/bin/sh may be either); and with another tar, which gets the bundle through
    `head -c SIZE` (GNU tar reads it from stdin itself)."""
    shell = request.param.split(",")[0]
    require(shutil.which(shell) is not None, shell)
    env = None
    if "GNU" in request.param:
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "tar").write_text(OTHER_TAR)
        (tmp_path / "bin" / "tar").chmod(0o755)
        env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "REAL_TAR": require_binary("tar")}
    runner = LocalRunner(shell, env)
    try:
        yield runner
    finally:
        if runner.proc.poll() is None:
            runner.proc.kill()
        runner.proc.wait()


def test_steps_in_one_runner(local_runner: LocalRunner, make_bundle: BundleMaker) -> None:
    """Unpack, load env byte-exact, exit codes, streams apart, cleanup: several steps through one runner."""
    value = "a\nb $(x) `y` \\ ' \" \x1e"
    for exit_code in (4, 0, 3):
        bundle = make_bundle(f'pwd; load_env; printf "%s" "$V"; printf err >&2; exit {exit_code}\n', env={"V": value})
        code, stdout, stderr = local_runner.finish(local_runner.start(bundle))
        assert code == exit_code
        run_dir, printed = stdout.split(b"\n", 1)
        assert run_dir.decode().startswith(RUN_DIR_PREFIX) and re.fullmatch(rb"/tmp/stackscripts\.[0-9a-f]{16}", run_dir)
        assert printed == value.encode() and stderr == b"err"
        assert not os.path.exists(run_dir)
    assert local_runner.close() == 0


def test_stray_lines_between_steps_are_ignored(local_runner: LocalRunner, make_bundle: BundleMaker) -> None:
    """A `cancel` or `done` that arrives after its step ended does not disturb the next one."""
    local_runner.finish(local_runner.start(make_bundle("true\n")))
    local_runner.send(b"cancel\ndone\n\n")
    assert local_runner.finish(local_runner.start(make_bundle("echo fine\n"))) == (0, b"fine\n", b"")


def test_cancel_stops_the_step_and_the_runner_goes_on(local_runner: LocalRunner, make_bundle: BundleMaker) -> None:
    marker = f"{os.getpid()}{secrets.randbelow(10**6)}"
    mark = local_runner.start(make_bundle(f"echo up; sleep 1{marker} & sleep 2{marker}\n"))
    local_runner.read_until("stdout", b"up\n")
    local_runner.send(b"cancel\n")
    code, stdout, _ = local_runner.finish(mark)
    assert (code, stdout) == (143, b"up\n")
    wait_gone(marker, 5)
    assert local_runner.finish(local_runner.start(make_bundle("echo next\n"))) == (0, b"next\n", b"")


def test_step_stopped_when_stdin_closes(local_runner: LocalRunner, make_bundle: BundleMaker) -> None:
    """sshd closes the runner's stdin when the connection drops: the step is stopped, its dir removed, the runner exits."""
    marker = f"{os.getpid()}{secrets.randbelow(10**6)}"
    try:
        local_runner.start(make_bundle(f"pwd; sleep 1{marker} & sleep 2{marker}; echo never\n"))
        run_dir = local_runner.read_until("stdout", b"\n").split(b"<", 1)[1].strip()
        assert os.path.isdir(run_dir)
        assert local_runner.close() == 0
        wait_gone(marker, 5)
        assert not os.path.exists(run_dir)
        assert b"never" not in local_runner.out
    finally:
        kill_matching(marker)


def test_a_bundle_that_cannot_be_unpacked_ends_the_runner(local_runner: LocalRunner) -> None:
    """Exit 125 and the runner exits (what follows on stdin cannot be trusted to be a frame). GNU tar, reading stdin
    itself, looks past a broken archive for the next header until stdin ends; head -c stops it at SIZE."""
    mark = secrets.token_hex(16)
    name = secrets.token_hex(8)
    local_runner.send(f"step 10240 0 {name} {mark}\n".encode() + b"not a tar!" * 1024)
    proc = local_runner.proc
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 125
    out, err = proc.stdout.read(), proc.stderr.read()
    assert out.endswith(f"\x1e{mark}>125\n".encode()) and err.endswith(f"\x1e{mark}>125\n".encode())
    assert b"tar" in err
    assert not os.path.exists(f"/tmp/stackscripts.{name}")


def test_a_bundle_of_part_records_is_refused_by_gnu_tar(make_bundle: BundleMaker) -> None:
    """GNU tar reads whole 10240-byte records: a size that is not a whole number of them ends the runner at once
    (rather than tar waiting for bytes that never come)."""
    runner = LocalRunner(require_binary("dash"))
    runner.send(f"step 1024 0 {secrets.token_hex(8)} {secrets.token_hex(16)}\n".encode() + b"x" * 1024)
    assert runner.proc.wait(timeout=10) == 125
    runner.close()


def test_header_with_a_foreign_value_is_refused(local_runner: LocalRunner) -> None:
    local_runner.send(b"step 10 0 ../etc $(reboot)\n")
    assert local_runner.proc.wait(timeout=10) == 125
