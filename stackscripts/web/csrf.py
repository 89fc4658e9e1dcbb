"""CSRF protection for the web dashboard's form actions: a per-session token, the HMAC of the session cookie.

Pure Python: the app makes one `new_secret()` when it starts (never stored, never logged: a restart makes every
form's token stale, and the page is simply loaded again), puts `csrf_token(secret, session)` in every form that
POSTs (a hidden field named FIELD) or sends it as the HEADER from its own script, and refuses (403) any POST that
comes with the session cookie unless `check_csrf(secret, session, submitted)`. The session is the value of the
session cookie (web/auth.py SESSION_COOKIE: the token a browser signed in with, or without tokens a random
`new_session()` the app sets on the first page); a request that carries `Authorization: Bearer` (the API) sends no
cookie a foreign page could ride on, and needs no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["FIELD", "HEADER", "check_csrf", "csrf_token", "new_secret", "new_session"]

FIELD = "csrf_token"  # a form's hidden field
HEADER = "X-CSRF-Token"  # or this header, from the app's own script
_CONTEXT = b"stackscripts-csrf-v1\x00"  # keeps these HMACs apart from any other use of the same secret


def new_secret() -> bytes:
    """The server's secret, made at start: 32 random bytes."""
    return secrets.token_bytes(32)


def new_session() -> str:
    """A random session value for the cookie of a dashboard without tokens (loopback), so its forms are protected too."""
    return secrets.token_urlsafe(32)


def csrf_token(secret: bytes, session: str) -> str:
    """The CSRF token of one session: hex HMAC-SHA256 of the session value under the server's secret."""
    if len(secret) < 16:
        raise ValueError("the CSRF secret must be at least 16 bytes (use new_secret())")
    if not session:
        raise ValueError("a CSRF token needs a session (the session cookie's value)")
    return hmac.new(secret, _CONTEXT + session.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def check_csrf(secret: bytes, session: str | None, submitted: str | None) -> bool:
    """Whether a submitted CSRF token is this session's, compared in constant time; False without a session or a
    token."""
    if not session or not submitted or len(secret) < 16:
        return False
    expected = csrf_token(secret, session).encode("ascii")
    return hmac.compare_digest(expected, submitted.encode("utf-8", "surrogatepass"))
