"""Who a dashboard request acts as (web/auth.py), over a real SQLite store with real tokens: loopback without
tokens, Bearer and cookie tokens, one 401 message for unknown, revoked and expired tokens, binds, Host headers,
who may act and see. Unit-level: no app, plain values as the app passes them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.api import tokens as api_tokens
from stackscripts.api.controller import Controller
from stackscripts.api.tokens import Principal, create_token, revoke_token, secret_sha256
from stackscripts.errors import BadInput, Unauthorized
from stackscripts.store.tokens import TokenRecord
from stackscripts.web.auth import LOOPBACK, bind_allowed, can_act, host_allowed, is_loopback, principal_of, visible

LOCAL = ("127.0.0.1", "127.5.6.7", "::1", "[::1]", "::ffff:127.0.0.1", "localhost", "LocalHost")
REMOTE = ("10.0.0.5", "0.0.0.0", "::", "192.168.1.2", "::ffff:10.0.0.1", "example.com", "testclient", "", None,
          "127.0.0.1.nip.io", "localhost.evil.com")


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    with Controller(tmp_path / "audit.db") as c:
        yield c


def ask(c: Controller, *, authorization: str | None = None, cookie: str | None = None,
        client: str | None = "127.0.0.1", tokens: bool = True) -> Principal:
    return principal_of(c, authorization=authorization, cookie=cookie, client_host=client, tokens_exist=tokens)


def test_loopback_is_every_team_as_operator_only_without_tokens(controller: Controller) -> None:
    for host in LOCAL:
        assert is_loopback(host), host
        assert ask(controller, client=host, tokens=False, authorization="Bearer junk", cookie="junk") == LOOPBACK
    assert (LOOPBACK.team, LOOPBACK.role, LOOPBACK.token) == (None, "operator", None)
    for host in REMOTE:
        assert not is_loopback(host), host
        with pytest.raises(Unauthorized, match="answers only requests from this machine"):
            ask(controller, client=host, tokens=False)


def test_with_tokens_every_request_needs_one_loopback_too(controller: Controller) -> None:
    made, secret = create_token(controller, team="web", role="viewer", name="wall")
    for client in ("127.0.0.1", "10.0.0.5"):
        with pytest.raises(Unauthorized, match="a token is needed"):
            ask(controller, client=client)
        for header in (f"Bearer {secret}", f"bearer  {secret} ", f"BEARER {secret}"):
            assert ask(controller, client=client, authorization=header) == Principal("wall", "web", "viewer", made.id)
        assert ask(controller, client=client, cookie=secret) == Principal("wall", "web", "viewer", made.id)
    with pytest.raises(Unauthorized, match="not 'Bearer TOKEN'"):
        ask(controller, authorization=f"Basic {secret}")
    with pytest.raises(Unauthorized, match="not 'Bearer TOKEN'"):
        ask(controller, authorization="Bearer ", cookie=secret)
    with pytest.raises(Unauthorized, match="unknown, revoked or expired"):
        ask(controller, authorization="Bearer sst_000000000000_" + "A" * 43, cookie=secret)  # the header wins


def test_unknown_revoked_and_expired_tokens_get_one_answer(controller: Controller) -> None:
    _, revoked = create_token(controller, team="web", role="operator")
    revoke_token(controller, revoked.split("_")[1])
    expired = f"sst_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    controller.store.put_token(TokenRecord(expired.split("_")[1], "web", "operator", created=1.0, expires=2.0),
                               secret_sha256(expired))
    unknown = f"sst_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    answers = set()
    for secret in (revoked, expired, unknown, "not-a-token", "x" * 5000):
        for kwargs in ({"authorization": f"Bearer {secret}"}, {"cookie": secret}):
            with pytest.raises(Unauthorized) as refused:
                ask(controller, **kwargs)  # type: ignore[arg-type]
            answers.add(str(refused.value))
            assert secret not in str(refused.value)
    assert len(answers) == 1 and refused.value.exit_code == 2


def test_a_tokens_use_is_recorded_at_most_once_a_minute(controller: Controller,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    made, secret = create_token(controller, team="web", role="viewer")
    now = time.time()
    monkeypatch.setattr(api_tokens.time, "time", lambda: now)
    ask(controller, cookie=secret)
    assert controller.store.list_tokens()[0].last_used == now
    monkeypatch.setattr(api_tokens.time, "time", lambda: now + 59)
    ask(controller, cookie=secret)
    assert controller.store.list_tokens()[0].last_used == now
    monkeypatch.setattr(api_tokens.time, "time", lambda: now + 61)
    ask(controller, cookie=secret)
    assert controller.store.list_tokens()[0].last_used == now + 61


def test_without_tokens_the_dashboard_binds_only_to_loopback() -> None:
    for host in LOCAL:
        assert bind_allowed(host, tokens_exist=False)
    for host in ("0.0.0.0", "::", "10.0.0.5", "example.com"):
        with pytest.raises(BadInput, match=rf"cannot serve on {host}: .*no API token.*stackscripts tokens create") as no:
            bind_allowed(host, tokens_exist=False)
        assert no.value.exit_code == 2
        assert bind_allowed(host, tokens_exist=True)


def test_without_tokens_only_a_loopback_host_header_is_served() -> None:
    for header in ("127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LOCALHOST", "[::1]:8080", "[::1]"):
        assert host_allowed(header, tokens_exist=False), header
    for header in ("evil.example:8080", "evil.example", "127.0.0.1.nip.io:8080", "[::1", "", None, "10.0.0.5:8080"):
        assert not host_allowed(header, tokens_exist=False), header
        assert host_allowed(header, tokens_exist=True)


def test_viewers_see_operators_act_and_each_team_sees_its_own() -> None:
    viewer, operator = Principal("v", "web", "viewer", "a"), Principal("o", "web", "operator", "b")
    assert (can_act(viewer), can_act(operator), can_act(LOOPBACK)) == (False, True, True)
    assert visible(viewer, "web") and not visible(viewer, "db") and not visible(viewer, None)
    assert visible(LOOPBACK, "web") and visible(LOOPBACK, "db") and visible(LOOPBACK, None)
