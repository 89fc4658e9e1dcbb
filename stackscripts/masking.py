"""Mask secret values in a step's streamed output, as bytes, however the output is cut or interleaved.

A secret must not appear in any view of the output: stdout alone, stderr alone, or both as a
terminal interleaves them (half written to stdout and half to stderr still reads as the secret).
Output is held back only while its end could be the start of a secret.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterable, Sequence

MASK = "********"
MASK_BYTES = MASK.encode()
MIN_SECRET = 4  # shorter credentials are refused: masking "ab" would hide every "a"... and reveal it

Piece = tuple[str, bytes]  # (stream, bytes)


class SecretSet:
    """The secrets a controller holds for one server, shared by every run on it (counted, thread-safe)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._counts: dict[bytes, int] = {}
        self.version = 0
        self._sorted: tuple[bytes, ...] = ()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            for value in values:
                if value:
                    key = value.encode()
                    self._counts[key] = self._counts.get(key, 0) + 1
            self._changed()

    def remove(self, values: Iterable[str]) -> None:
        with self._lock:
            for value in values:
                key = value.encode()
                if key in self._counts:
                    self._counts[key] -= 1
                    if not self._counts[key]:
                        del self._counts[key]
            self._changed()

    def _changed(self) -> None:
        self._sorted = tuple(sorted(self._counts, key=len, reverse=True))
        self.version += 1

    def values(self) -> tuple[bytes, ...]:
        """The secrets, longest first."""
        return self._sorted


def mask_text(text: str, secrets: SecretSet | Sequence[str]) -> str:
    """The text with every secret of the set replaced by the mask, longest secret first."""
    values = secrets.values() if isinstance(secrets, SecretSet) else sorted((v.encode() for v in secrets if v),
                                                                            key=len, reverse=True)
    data = text.encode()
    for secret in values:
        data = data.replace(secret, MASK_BYTES)
    return data.decode(errors="replace")


class StreamMasker:
    """Masks one step's output as it arrives: feed (stream, bytes), get back the pieces safe to show."""

    def __init__(self, secrets: SecretSet | Sequence[str]) -> None:
        self.secrets = secrets if isinstance(secrets, SecretSet) else SecretSet(secrets)
        self._data = bytearray()  # pending output, both streams in arrival order
        self._marks = bytearray()  # 1 for each pending byte that belongs to a secret
        self._segments: list[tuple[int, str]] = []  # (start in _data, stream) of each run of one stream

    def feed(self, stream: str, data: bytes) -> list[Piece]:
        secrets = self.secrets.values()
        if not self._data and (not secrets or not data):
            return [(stream, bytes(data))] if data else []
        if not self._segments or self._segments[-1][1] != stream:
            self._segments.append((len(self._data), stream))
        self._data += data
        self._marks += bytes(len(data))
        return self._release(self._scan(secrets))

    def flush(self) -> list[Piece]:
        self._scan(self.secrets.values())
        return self._release(len(self._data))

    def _spans(self) -> list[tuple[int, int, str]]:
        if not self._segments:
            return []
        ends = [start for start, _ in self._segments[1:]] + [len(self._data)]
        return [(start, end, stream) for (start, stream), end in zip(self._segments, ends, strict=True)]

    def _scan(self, secrets: Sequence[bytes]) -> int:
        """Mark every secret in every view; return the first position that must be held back."""
        spans = self._spans()
        views = [[(0, len(self._data))]]  # the interleaved view, then each stream alone
        if len({stream for _, _, stream in spans}) > 1:
            for name in sorted({stream for _, _, stream in spans}):
                views.append([(a, b) for a, b, stream in spans if stream == name])
        hold = len(self._data)
        for pieces in views:
            view = b"".join(self._data[a:b] for a, b in pieces)
            starts = list(itertools.accumulate((b - a for a, b in pieces), initial=0))

            def merged(pos: int, pieces: list[tuple[int, int]] = pieces, starts: list[int] = starts) -> int:
                k = bisect.bisect_right(starts, pos) - 1
                return pieces[k][0] + pos - starts[k]

            for secret in secrets:
                found = view.find(secret)
                while found >= 0:
                    for k, (a, _end) in enumerate(pieces):  # mark the secret's bytes piece by piece
                        lo, hi = max(found, starts[k]), min(found + len(secret), starts[k + 1])
                        if lo < hi:
                            self._marks[a + lo - starts[k]:a + hi - starts[k]] = b"\x01" * (hi - lo)
                    found = view.find(secret, found + 1)
            tail = _partial(view, secrets)
            if tail:
                hold = min(hold, merged(len(view) - tail))
        return hold

    def _release(self, upto: int) -> list[Piece]:
        pieces: list[Piece] = []
        spans = self._spans()
        for start, end, stream in spans:
            end = min(end, upto)
            if start >= end:
                break
            out, pos = bytearray(), start
            while pos < end:  # alternate clear runs and masked runs
                mark = self._marks.find(1, pos, end)
                out += self._data[pos:end if mark < 0 else mark]
                if mark < 0:
                    break
                out += MASK_BYTES
                after = self._marks.find(0, mark, end)
                pos = end if after < 0 else after
            pieces.append((stream, bytes(out)))
        del self._data[:upto], self._marks[:upto]
        self._segments = [(max(start - upto, 0), stream) for start, end, stream in spans if end > upto]
        return pieces


def _partial(view: bytes, secrets: Sequence[bytes]) -> int:
    """Length of the longest suffix of view that is a proper prefix of a secret."""
    longest = 0
    for secret in secrets:
        start = max(len(view) - len(secret) + 1, 0)
        while True:
            start = view.find(secret[:1], start)
            if start < 0 or len(view) - start <= longest:
                break
            if secret.startswith(view[start:]):
                longest = len(view) - start
                break
            start += 1
    return longest
