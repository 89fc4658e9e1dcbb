"""A step's output as the dashboard shows it: a page at a time from the store, decoded and made visible."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.base import Store

PAGE_BYTES = 64 * 1024  # a page of output: the run page shows each step's first; a chunk may take it past this

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")  # colours, cursor moves, titles
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display(text: str) -> str:
    """Terminal escape sequences dropped, a line redrawn with \\r shown as its last state, every other control
    character (and bidirectional override) shown as an escape; HTML escaping is the template's."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(next((part for part in reversed(line.split("\r")) if part), "") for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


@dataclass(frozen=True)
class OutputPage:
    """Part of a step's output: its text, the chunk cursor after it, whether more follows, where it starts."""

    text: str
    after: int  # the seq of the last chunk read: the next page starts after it (the live view too)
    more: bool
    offset: int = 0  # the page's first byte in the step's output
    size: int = 0  # its bytes


def read_page(store: Store, run_id: str, index: int, after: int = 0, limit: int = PAGE_BYTES) -> OutputPage:
    """The output of a step after chunk `after`, up to about `limit` bytes (whole chunks), read a page of rows at a
    time: opening a step of any size reads only this much."""
    chunks = store.read_output(run_id, index, after=after)
    data: list[bytes] = []
    size, offset, last, more = 0, -1, after, False
    try:
        for chunk in chunks:
            if size >= limit:
                more = True
                break
            if offset < 0:
                offset = chunk.offset
            data.append(chunk.data)
            size += len(chunk.data)
            last = chunk.seq
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # the reader's page of rows is let go now
    text = b"".join(data).decode("utf-8", "replace")
    return OutputPage(display(text), last, more, max(offset, 0), size)
