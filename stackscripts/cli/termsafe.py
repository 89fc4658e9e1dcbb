"""Make a step's output safe to print on the operator's terminal.

A step may print escape sequences that clear the screen, set the window title, move the cursor or
rewrite the clipboard (OSC 52). On a terminal they are shown, not obeyed: every control character
except newline and tab becomes a visible escape (`\\x1b`, `\\x07`, `\\x9b`). The store keeps the exact
bytes; `runs log --raw` prints them.
"""

from __future__ import annotations

import re

# C0 controls but \t and \n, DEL, C1 controls, and the bidirectional overrides that reorder text
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """text with every control character (but newline and tab) shown as an escape."""
    return _UNSAFE.sub(_visible, text)
