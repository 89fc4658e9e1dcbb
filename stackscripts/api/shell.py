"""`stackscripts ssh`: the OpenSSH client on a recorded server, with the server's address, key and host key.

    with ssh_invocation(controller, "web1", ["hostname"]) as call:   # call.argv: the ssh command line
        subprocess.run(call.argv)
    result = run_ssh(controller, "web1", ["hostname"], capture=True)  # the same, run, and a first key recorded

The recorded host key goes into a temporary known_hosts file that ssh checks strictly; a host that presents another
key is refused before ssh starts (HostKeyMismatch, naming `servers forget-key`). With no key recorded, ssh accepts the
host's key into that file (trust on first use, as runs do) and the key is recorded once the session ends. A `cred:`
client key is written 0600 in a 0700 temporary folder that is removed afterwards, whatever happens. The OpenSSH
client binaries (`ssh`, `ssh-keyscan`) are run from this module only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, ConnectionFailed, HostKeyMismatch
from ..store.base import ServerRecord
from ..transport.keys import is_reference, private_key_text
from ..transport.ssh_connect import connect_failure
from .servers import address, host_fingerprint, host_spec

if TYPE_CHECKING:
    from .controller import Controller

__all__ = ["Invocation", "ShellResult", "run_ssh", "ssh_invocation"]

CONNECT_TIMEOUT = 15.0
_KEY_LINE = re.compile(r"^([a-z0-9][a-z0-9@.+-]{2,63}) ([A-Za-z0-9+/]+={0,2})$")
_SCAN_TYPES = {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa", "ssh-dss": "dsa", "sk-ssh-ed25519@openssh.com": "ed25519-sk",
               "sk-ecdsa-sha2-nistp256@openssh.com": "ecdsa-sk"}


@dataclass(frozen=True)
class Invocation:
    """An ssh command line ready to run, and where its host key ends up on first use."""

    server: str
    argv: tuple[str, ...]
    known_hosts: Path
    first_use: bool  # no host key was recorded: the key ssh accepts is recorded after the session


@dataclass(frozen=True)
class ShellResult:
    """How a session ended: the remote command's exit code (255: ssh's own error), output when captured, and the
    host key recorded at first use (its `type base64` line), if any."""

    server: str
    command: tuple[str, ...]
    exit_code: int
    stdout: bytes | None = None
    stderr: bytes | None = None
    recorded_host_key: str | None = None


def _checked_key(record: ServerRecord) -> str | None:
    """The recorded host key as `type base64`, checked: nothing else may reach the known_hosts file."""
    if record.host_key is None:
        return None
    match = _KEY_LINE.match(" ".join(record.host_key.split()[:2]))
    try:
        blob = base64.b64decode(match.group(2), validate=True) if match else b""
    except (binascii.Error, ValueError):
        blob = b""
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if not match or blob[4:4 + size] != match.group(1).encode():
        raise ConnectionFailed("the recorded host key is not a valid public key (expected 'type base64').",
                               server=record.name, hint=f"Run `stackscripts servers forget-key {record.name}` to "
                                                        "record it again on the next connection.")
    return f"{match.group(1)} {match.group(2)}"


def _reachable(record: ServerRecord) -> ServerRecord:
    if record.state == "terminated":
        raise BadInput(f"server {record.name} is terminated: there is nothing to connect to",
                       hint="Launch a new server, or record an existing host with 'stackscripts servers add'.")
    if not record.host:
        raise BadInput(f"server {record.name} has no address to connect to: {address(record)}",
                       hint=f"Launch it, or record an existing host with 'stackscripts servers add {record.name} "
                            "--host USER@HOST'.")
    return record


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BadInput(f"the OpenSSH client command '{name}' is not installed",
                       hint="Install it: apt-get install -y openssh-client.")
    return found


def _known_name(record: ServerRecord) -> str:
    assert record.host is not None
    return record.host if record.port == 22 else f"[{record.host}]:{record.port}"


def _presented(record: ServerRecord, kind: str | None, timeout: float) -> list[str]:
    """The host keys (`type base64`) the host presents now, of one key type (ssh-keyscan's name) or of every type."""
    assert record.host is not None
    argv = [_tool("ssh-keyscan"), "-T", str(max(1, int(timeout))), "-p", str(record.port)]
    if kind:
        argv += ["-t", kind]
    try:
        done = subprocess.run([*argv, "--", record.host], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout * 2 + 5, check=False)
    except subprocess.TimeoutExpired:
        return []
    found = []
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#") and _KEY_LINE.match(f"{parts[1]} {parts[2]}"):
            found.append(f"{parts[1]} {parts[2]}")
    return found


def check_host_key(record: ServerRecord, recorded: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """HostKeyMismatch when the host presents keys and the recorded one is not among them (ssh would refuse too;
    this says why in one paragraph, before ssh starts)."""
    kind = recorded.split()[0]
    scan = _SCAN_TYPES.get(kind, "ecdsa" if kind.startswith("ecdsa-sha2-") else None)
    keys = _presented(record, scan, timeout)
    if recorded in keys:
        return
    keys = keys or _presented(record, None, timeout)
    if not keys:
        return  # nothing answered ssh-keyscan: ssh decides, strictly, and says why
    same = [k for k in keys if k.split()[0] == kind]
    shown = same[0] if same else keys[0]
    raise HostKeyMismatch(
        f"the host key of {address(record)} has changed: expected {host_fingerprint(recorded)} ({kind}), the host "
        f"presented {host_fingerprint(shown)} ({shown.split()[0]}). ssh was not started, because someone could be "
        "intercepting the connection.", server=record.name,
        hint=f"If the host was rebuilt, run `stackscripts servers forget-key {record.name}` and connect again.")


def _probe(record: ServerRecord, timeout: float) -> None:
    """ConnectionFailed (exit 2, one paragraph) when nothing listens at the server's address."""
    assert record.host is not None
    try:
        socket.create_connection((record.host, record.port), timeout=timeout).close()
    except OSError as exc:
        raise connect_failure(host_spec(record, timeout), exc) from None


def _write_private(path: Path, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(data)


def _identity(controller: Controller, record: ServerRecord, folder: Path) -> list[str]:
    """ssh's options for the server's key: a file, a cred: key written into `folder`, or none (agent, own keys)."""
    if not record.key_path:
        return []
    if is_reference(record.key_path):
        key = folder / "identity"
        text = private_key_text(record.name, record.key_path, controller.creds)
        _write_private(key, text.strip().replace("\r\n", "\n") + "\n")
    else:
        key = Path(os.path.expanduser(record.key_path))
        if not key.is_file():
            raise BadInput(f"server {record.name}: its SSH key file does not exist", file=str(key),
                           hint=f"Record another key: 'stackscripts servers remove {record.name}', then "
                                "'servers add' with --key.")
    return ["-o", "IdentitiesOnly=yes", "-i", str(key)]


@contextmanager
def ssh_invocation(controller: Controller, server: str, command: Sequence[str] = (), *, tty: bool = False,
                   batch: bool = False, check_key: bool = True,
                   connect_timeout: float = CONNECT_TIMEOUT) -> Iterator[Invocation]:
    """The ssh command line for a recorded server, valid inside the block (its temporary files are removed after).

    `command` is passed to ssh as separate arguments after the host (ssh joins them for the remote shell);
    `tty` forces a terminal (-t); `batch` never prompts. `check_key=False` leaves the host key check to ssh alone."""
    record = _reachable(controller.store.get_server(server))
    recorded = _checked_key(record)
    ssh = _tool("ssh")
    _probe(record, connect_timeout)
    if recorded is not None and check_key:
        check_host_key(record, recorded, connect_timeout)
    folder = Path(tempfile.mkdtemp(prefix="stackscripts-ssh-"))  # 0700
    try:
        known = folder / "known_hosts"
        _write_private(known, f"{_known_name(record)} {recorded}\n" if recorded else "")
        argv = [ssh, "-F", "/dev/null",
                "-o", f"StrictHostKeyChecking={'yes' if recorded else 'accept-new'}",
                "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "UpdateHostKeys=no", "-o", "HashKnownHosts=no", "-o", "CheckHostIP=no",
                "-o", "LogLevel=ERROR", "-o", f"ConnectTimeout={max(1, int(connect_timeout))}",
                *_identity(controller, record, folder), "-p", str(record.port), "-l", record.user]
        if batch:
            argv += ["-o", "BatchMode=yes"]
        if tty:
            argv.append("-t")
        assert record.host is not None
        yield Invocation(record.name, (*argv, "--", record.host, *command), known, recorded is None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def accepted_key(invocation: Invocation) -> str | None:
    """The host key ssh accepted into the temporary known_hosts file (trust on first use), as `type base64`."""
    try:
        lines = invocation.known_hosts.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and _KEY_LINE.match(f"{parts[1]} {parts[2]}"):
            return f"{parts[1]} {parts[2]}"
    return None


def record_first_key(controller: Controller, invocation: Invocation) -> str | None:
    """Record the key ssh accepted at first use, unless the server has one by now; the key recorded, or None."""
    key = accepted_key(invocation) if invocation.first_use else None
    if key is None or controller.store.get_server(invocation.server).host_key is not None:
        return None
    controller.store.update_server(invocation.server, host_key=key)
    return key


@contextmanager
def _signals_end_session(child: subprocess.Popen[Any]) -> Iterator[None]:
    """While ssh runs: Ctrl-C is the session's (ssh gets it), SIGTERM and SIGHUP end ssh and then us, so that the
    temporary folder is removed. Only in the main thread (signal handlers live there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        child.terminate()
        raise SystemExit(128 + signum)

    saved = {sig: signal.signal(sig, handler) for sig, handler in
             ((signal.SIGINT, signal.SIG_IGN), (signal.SIGTERM, stop), (signal.SIGHUP, stop))}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def run_ssh(controller: Controller, server: str, command: Sequence[str] = (), *, tty: bool = False,
            capture: bool = False, connect_timeout: float = CONNECT_TIMEOUT) -> ShellResult:
    """Run ssh on the server: interactive (this process's terminal) or, with `capture`, the command's output kept
    (stdin empty, never a prompt). A host key accepted at first use is recorded when ssh did not fail (exit 255)."""
    with ssh_invocation(controller, server, command, tty=tty, batch=capture,
                        connect_timeout=connect_timeout) as call:
        pipe = subprocess.PIPE if capture else None
        child = subprocess.Popen(call.argv, stdin=subprocess.DEVNULL if capture else None, stdout=pipe, stderr=pipe)
        with _signals_end_session(child):
            try:
                out, err = child.communicate()
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        code = child.returncode if child.returncode >= 0 else 128 - child.returncode
        recorded = record_first_key(controller, call) if code != 255 else None
    return ShellResult(call.server, tuple(command), code, out, err, recorded)
