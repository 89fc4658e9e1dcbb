"""Tokens never reach a log (web/auth.py `redact`, `RedactFilter`, `redact_logs`): in messages, in arguments (kept in
count and order, as uvicorn's access formatter unpacks them), in exception text, and in records that child loggers
pass up to a handler. Real logging, real handlers, real tokens' shapes.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator

import pytest

from stackscripts.web.auth import SESSION_COOKIE, RedactFilter, redact, redact_logs

TOKEN = f"sst_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
SECRET = TOKEN[4 + 12 + 1:]


def test_redact_masks_tokens_bearer_credentials_and_cookies() -> None:
    token_id = TOKEN[4:16]
    cases = {
        f"Authorization: Bearer {TOKEN}": "Authorization: Bearer ***",
        "authorization: bearer abc.def-ghi": "authorization: bearer ***",
        f"GET /api/v1/runs?Bearer%20{TOKEN} HTTP/1.1": "GET /api/v1/runs?Bearer%20*** HTTP/1.1",
        f"token {TOKEN} refused": f"token sst_{token_id}_*** refused",
        f"Cookie: theme=dark; {SESSION_COOKIE}={TOKEN}; x=1": f"Cookie: theme=dark; {SESSION_COOKIE}=***; x=1",
        f"POST /login token={SECRET}&csrf_token=abc": "POST /login token=***&csrf_token=***",
        "nothing to hide: sst_ alone, bearer-less text": "nothing to hide: sst_ alone, bearer-less text",
    }
    for text, expected in cases.items():
        assert redact(text) == expected
        assert redact(expected) == expected  # masking twice changes nothing
        assert SECRET not in redact(text)


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger with a real stream handler, the filter installed as the app installs it (`redact_logs`)."""
    stream = io.StringIO()
    parent = logging.getLogger(f"tk_redact_{secrets.token_hex(3)}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    parent.propagate = False
    redact_logs(parent.name)
    redact_logs(parent.name)  # twice: installed once
    assert sum(isinstance(f, RedactFilter) for f in handler.filters) == 1
    yield parent, stream
    parent.removeHandler(handler)


def test_log_records_are_masked_in_message_arguments_and_exceptions(
        captured: tuple[logging.Logger, io.StringIO]) -> None:
    parent, stream = captured
    child = logging.getLogger(parent.name + ".child")  # passes its records up: only the handler's filter sees them
    child.info(f"signed in with {TOKEN}")
    child.info("request %s %s %d", "GET", f"/?token={SECRET}", 200)
    child.info("%(who)s", {"who": f"Bearer {TOKEN}"})
    child.info("object %s", ValueError(f"bad {TOKEN}"))
    try:
        raise RuntimeError(f"failed with Authorization: Bearer {TOKEN}")
    except RuntimeError:
        child.exception("boom")
    text = stream.getvalue()
    assert SECRET not in text and TOKEN not in text, text
    assert "request GET /?token=*** 200" in text and "Bearer ***" in text and "RuntimeError: failed" in text
    assert text.count("\n") >= 6


def test_an_access_records_arguments_keep_their_shape() -> None:
    """uvicorn's access formatter unpacks (client, method, path, version, status) from the record's args."""
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/runs?token={SECRET}", "1.1", 200), None)
    assert RedactFilter().filter(record) is True
    client, method, path, version, status = record.args  # type: ignore[misc]
    assert (client, method, path, version, status) == ("127.0.0.1:5000", "GET", "/runs?token=***", "1.1", 200)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /runs?token=*** HTTP/1.1" 200'
