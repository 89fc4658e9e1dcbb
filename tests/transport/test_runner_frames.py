"""The controller's reading of a runner stream: markers found however the bytes are cut, nothing else taken for one."""

from __future__ import annotations

import secrets

from stackscripts.transport.runner import RS, StepStream


def _stream(mark: str, body: bytes, code: int = 0, before: bytes = b"", after: bytes = b"") -> bytes:
    """What a runner writes on one stream for a step, with leftovers' bytes around it."""
    return before + RS + mark.encode() + b"<" + body + RS + mark.encode() + b">" + str(code).encode() + b"\n" + after


def _feed_in(stream: StepStream, data: bytes, cuts: list[int]) -> bytes:
    out = bytearray()
    last = 0
    for cut in [*cuts, len(data)]:
        out += stream.feed(data[last:cut])
        last = cut
    return bytes(out)


def test_markers_found_at_every_cut() -> None:
    mark = secrets.token_hex(16)
    body = b"out\n\x1e half \x1e" + RS + b"not-the-mark>0\n" + bytes(range(256))
    data = _stream(mark, body, 7, before=b"daemon's leftovers\n", after=b"later")
    for cut in range(len(data) + 1):
        stream = StepStream(mark)
        assert _feed_in(stream, data, [cut]) == body, cut
        assert stream.code == 7 and stream.ended
        assert bytes(stream.prelude) == b"daemon's leftovers\n"


def test_byte_at_a_time() -> None:
    mark = secrets.token_hex(16)
    body = b"\x1e" * 40 + b"x" + RS + mark.encode()[:-1] + b"<>"
    data = _stream(mark, body, 143)
    stream = StepStream(mark)
    assert _feed_in(stream, data, list(range(1, len(data)))) == body
    assert stream.code == 143


def test_forged_markers_are_output() -> None:
    """A step cannot know its mark: any other mark, an earlier step's, or the start marker again is output."""
    earlier, mark = secrets.token_hex(16), secrets.token_hex(16)
    forged = (RS + earlier.encode() + b">0\n" + RS + mark.encode() + b"<" + RS + b"0" * 32 + b">0\n"
              + b"cancel\ndone\n")
    stream = StepStream(mark)
    assert stream.feed(_stream(mark, forged, 3)) == forged
    assert stream.code == 3


def test_only_a_possible_marker_start_is_held_back() -> None:
    mark = secrets.token_hex(16)
    stream = StepStream(mark)
    assert stream.feed(RS + mark.encode() + b"<") == b""
    assert stream.feed(b"plain chunk") == b"plain chunk"  # passed on whole: no RS at its end
    assert stream.feed(b"ends with RS " + RS) == b"ends with RS "
    assert stream.feed(b"z") == RS + b"z"  # not a marker after all: released with the next chunk
    assert stream.feed(RS + mark.encode()[:5]) == b""
    assert stream.feed(b"!") == RS + mark.encode()[:5] + b"!"
    assert not stream.ended


def test_end_marker_code_split_and_garbage() -> None:
    mark = secrets.token_hex(16)
    stream = StepStream(mark)
    assert stream.feed(RS + mark.encode() + b"<body" + RS + mark.encode() + b">12") == b"body"
    assert not stream.ended
    assert stream.feed(b"4\nafter") == b""
    assert stream.code == 124
    assert stream.feed(b"more") == b""  # what follows its end is not the step's
    bad = StepStream(mark)
    bad.feed(RS + mark.encode() + b"<" + RS + mark.encode() + b">x\n")
    assert bad.code == -1
