"""Mask secret values in streamed output, even when a value is split across two chunks."""

from __future__ import annotations

import codecs

MASK = "********"


class Masker:
    """Masks one stream: holds back only trailing text that could be the start of a secret cut in two."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
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
        # Release all but the longest tail that is the beginning of a secret: holding a fixed
        # len(secret) - 1 characters would keep the last line before a quiet spell (or a kill) from
        # the terminal and the audit store.
        hold = len(text) - self._partial(text)
        self._pending = text[hold:]
        return text[:hold]

    def _partial(self, text: str) -> int:
        """Length of the longest suffix of text that is a proper prefix of a secret."""
        longest = 0
        for secret in self.secrets:
            start = max(len(text) - len(secret) + 1, 0)
            while True:
                start = text.find(secret[0], start)
                if start < 0 or len(text) - start <= longest:
                    break
                if secret.startswith(text[start:]):
                    longest = len(text) - start
                    break
                start += 1
        return longest

    def flush(self) -> str:
        text = self.mask(self._pending + self._decoder.decode(b"", final=True))
        self._pending = ""
        return text
