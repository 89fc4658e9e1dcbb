"""Reading the files users name: regular files only, of bounded size, with one clear message each.

A FIFO would block a read forever, a device could be endless, a symlink loop raises ELOOP: each is
refused as bad input naming the file, before any byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .errors import BadInput

MAX_BYTES = 4 * 1024 * 1024  # a script, template, deployment or config file larger than this is refused

_KINDS = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_regular(path: Path | str, what: str = "file") -> os.stat_result:
    """stat() the path (following symlinks) and refuse anything but a regular file."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _os_error(path, exc, what) from None
    if not stat.S_ISREG(info.st_mode):
        raise BadInput(f"is {kind_of(info.st_mode)}, not {_a(what)}", file=str(path),
                       hint=f"Name a regular {what}." if not stat.S_ISDIR(info.st_mode) else "Name a file in it.")
    return info


def read_bytes(path: Path | str, what: str = "file", max_bytes: int = MAX_BYTES, hint: str | None = None) -> bytes:
    """The bytes of a regular file of at most max_bytes; opened without blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _os_error(path, exc, what) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise BadInput(f"is {kind_of(info.st_mode)}, not {_a(what)}", file=str(path),
                       hint=hint or f"Name a regular {what}.")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > max_bytes:
            raise BadInput(f"is {info.st_size:,} bytes, more than the {max_bytes:,} a {what} may have",
                           file=str(path), hint="Check that this is the file you meant.")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise BadInput(f"is more than the {max_bytes:,} bytes a {what} may have", file=str(path))
    return data


def read_text(path: Path | str, what: str = "file", max_bytes: int = MAX_BYTES, hint: str | None = None) -> str:
    """read_bytes decoded as UTF-8; a decoding error names its line."""
    return decode_utf8(read_bytes(path, what, max_bytes, hint), str(path), what)


def decode_utf8(data: bytes, file: str, what: str = "file") -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"the {what} is not UTF-8 text", file=file, line=data[: exc.start].count(b"\n") + 1,
                       hint="Save it as UTF-8.") from None


def _a(what: str) -> str:
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def _os_error(path: Path | str, exc: OSError, what: str) -> BadInput:
    if exc.errno == errno.ENOENT:
        return BadInput(f"no such {what}", file=str(path), hint="Check the path.")
    if exc.errno == errno.ELOOP:
        return BadInput("is a symbolic link loop", file=str(path), hint="Fix or remove the link.")
    if exc.errno == errno.EISDIR:
        return BadInput(f"is a folder, not {_a(what)}", file=str(path), hint="Name a file in it.")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return BadInput(f"cannot read this {what}: permission denied", file=str(path),
                        hint="Check the file's owner and mode.")
    return BadInput(f"cannot read this {what}: {exc.strerror or exc}", file=str(path))
