"""Terminal control sequences from a step are shown, not obeyed."""

from __future__ import annotations

from stackscripts.cli.termsafe import printable


def test_escape_sequences_become_visible() -> None:
    hostile = "ok\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07 \x9b31m done\n\ttabbed\n"
    shown = printable(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown == "ok\\x1b[2J\\x1b]0;pwned\\x07\\x1b]52;c;ZXZpbA==\\x07 \\x9b31m done\n\ttabbed\n"


def test_plain_text_and_unicode_pass_unchanged() -> None:
    text = "héllo wörld ✓ 日本語\n\tindented\n"
    assert printable(text) == text


def test_bidi_overrides_and_carriage_returns_are_visible() -> None:
    assert printable("a\u202eb\rc\x00") == "a\\u202eb\\x0dc\\x00"
