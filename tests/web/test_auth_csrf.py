"""CSRF tokens of the dashboard's forms (web/csrf.py): one per session, bound to the server's secret, checked in
constant time, refused when missing, tampered with, from another session or from before a restart."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from stackscripts.web.csrf import check_csrf, csrf_token, new_secret, new_session


def test_a_sessions_token_is_accepted_and_only_for_that_session() -> None:
    secret, session, other = new_secret(), new_session(), new_session()
    assert len(secret) == 32 and session != other and len(session) >= 40
    token = csrf_token(secret, session)
    assert token == csrf_token(secret, session) and len(token) == 64 and token != session
    assert session not in token
    assert check_csrf(secret, session, token)
    assert not check_csrf(secret, other, token)  # another session's
    assert not check_csrf(new_secret(), session, token)  # made before a restart (another server secret)
    assert csrf_token(secret, other) != token


def test_missing_or_tampered_tokens_are_refused() -> None:
    secret, session = new_secret(), new_session()
    token = csrf_token(secret, session)
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    for submitted in (None, "", flipped, token.upper(), token + "0", token[:-1], "é" * 64, session):
        assert not check_csrf(secret, session, submitted), submitted
    for no_session in (None, ""):
        assert not check_csrf(secret, no_session, token)
    assert not check_csrf(b"short", session, token)


def test_the_token_is_an_hmac_of_the_session_under_the_secret() -> None:
    secret, session = new_secret(), "a-session"
    plain = hmac.new(secret, session.encode(), hashlib.sha256).hexdigest()
    assert csrf_token(secret, session) != plain  # domain-separated from any other HMAC of the same session
    assert csrf_token(secret, session) == hmac.new(secret, b"stackscripts-csrf-v1\x00a-session",
                                                   hashlib.sha256).hexdigest()
    with pytest.raises(ValueError, match="at least 16 bytes"):
        csrf_token(b"short", session)
    with pytest.raises(ValueError, match="needs a session"):
        csrf_token(secret, "")
