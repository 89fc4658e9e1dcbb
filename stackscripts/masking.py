"""Mask secret values in streamed output, even when a value is split across two chunks."""

from __future__ import annotations

import codecs

MASK = "********"


class Masker:
    """Masks one stream: holds back just enough trailing text to catch a secret cut in two."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.keep = max((len(s) for s in self.secrets), default=1) - 1
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def feed(self, data: bytes) -> str:
        """Masked text that is safe to release now."""
        text = self._pending + self._decoder.decode(data)
        if not self.secrets:
            self._pending = ""
            return text
        text = self.mask(text)
        cut = len(text) - self.keep
        if cut <= 0:
            self._pending = text
            return ""
        # a secret starting before `cut` ends inside `text`, so it has been masked already
        hold = cut
        self._pending = text[hold:]
        return text[:hold]

    def flush(self) -> str:
        text = self.mask(self._pending + self._decoder.decode(b"", final=True))
        self._pending = ""
        return text
