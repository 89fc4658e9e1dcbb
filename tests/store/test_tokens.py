"""API tokens in the store's contract, on both backends (a real SQLite file, a real PostgreSQL database): kept by the
sha256 of their secret only, found by it, listed newest first, revoked once, their use recorded at most once a
minute; on PostgreSQL a token's team must be a team of the store (`store add-team`). The secret is nowhere in the
store: not in the SQLite file's bytes, not in a pg_dump (as text, hex or base64).
"""

from __future__ import annotations

import base64
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackscripts.api.controller import Controller
from stackscripts.api.tokens import authenticate, create_token, list_tokens, revoke_token, secret_sha256, tokens_exist
from stackscripts.errors import BadInput, NotFound, StackscriptsError, Unauthorized
from stackscripts.store import access
from stackscripts.store.sql_store import SQLStore
from stackscripts.store.tokens import TokenRecord
from tests.store.conftest import Backend
from tests.support import postgres

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def team(backend: Backend, store: SQLStore) -> Iterator[str]:
    """A team tokens may act as: on SQLite a label; on PostgreSQL a team role made as `store add-team` makes it (a
    name of its own per test: roles are the cluster's), dropped afterwards."""
    if backend.pg is None:
        yield "web"
        return
    name = f"tk_{secrets.token_hex(4)}"
    with store._tx() as tx:
        assert access.add_team(tx, name)
    try:
        yield name
    finally:
        with postgres.connect(backend.pg, backend.database) as admin:
            admin.execute(f'DROP OWNED BY "{name}"')
            admin.execute(f'DROP ROLE IF EXISTS "{name}"')


def record(token_id: str, team: str, **fields: object) -> TokenRecord:
    return TokenRecord(token_id, team, str(fields.pop("role", "viewer")), created=float(fields.pop("created", 100.0)),
                       **fields)  # type: ignore[arg-type]


def test_a_token_is_kept_by_its_hash_found_listed_and_revoked(store: SQLStore, team: str) -> None:
    assert store.has_tokens() is False and store.list_tokens() == []
    first = record("a" * 12, team, name="ci", who="me@here", expires=5000.0)
    second = record("b" * 12, team, role="operator", created=200.0)
    store.put_token(first, "1" * 64)
    store.put_token(second, "2" * 64)
    assert store.has_tokens() is True
    assert store.find_token("1" * 64) == first
    assert store.find_token("3" * 64) is None
    assert store.list_tokens() == [second, first]  # newest first
    assert store.list_tokens(team) == [second, first] and store.list_tokens("other") == []

    revoked, changed = store.revoke_token(first.id, 300.0)
    assert changed and revoked.revoked == 300.0 and revoked.state(301.0) == "revoked"
    again, changed = store.revoke_token(first.id, 400.0)
    assert not changed and again.revoked == 300.0  # the first time stays
    assert store.find_token("1" * 64) == revoked  # still found: authenticate refuses it
    assert store.has_tokens() is True  # a revoked token still counts: the dashboard keeps asking for tokens
    with pytest.raises(NotFound, match="unknown token 'cccccccccccc'"):
        store.revoke_token("c" * 12, 500.0)


def test_a_second_token_with_the_same_hash_is_refused(store: SQLStore, team: str) -> None:
    store.put_token(record("a" * 12, team), "1" * 64)
    with pytest.raises(StackscriptsError):
        store.put_token(record("b" * 12, team), "1" * 64)
    assert [t.id for t in store.list_tokens()] == ["a" * 12]


def test_a_use_is_recorded_at_most_once_a_minute(store: SQLStore, team: str) -> None:
    store.put_token(record("a" * 12, team), "1" * 64)
    assert store.touch_token("a" * 12, 1000.0) is True
    assert store.touch_token("a" * 12, 1059.0) is False  # within the minute: not written
    assert store.find_token("1" * 64).last_used == 1000.0  # type: ignore[union-attr]
    assert store.touch_token("a" * 12, 1060.0) is True
    assert store.find_token("1" * 64).last_used == 1060.0  # type: ignore[union-attr]
    assert store.touch_token("z" * 12, 2000.0) is False  # unknown: nothing written


def test_state_is_active_expired_or_revoked() -> None:
    token = TokenRecord("a" * 12, "web", "viewer", created=0.0, expires=100.0)
    assert (token.state(99.0), token.state(100.0)) == ("active", "expired")
    assert TokenRecord("a" * 12, "web", "viewer", revoked=5.0).state(1.0) == "revoked"
    assert TokenRecord("a" * 12, "web", "viewer").state(1e12) == "active"  # no expiry


def test_the_api_makes_checks_and_revokes_tokens(store: SQLStore, team: str) -> None:
    controller = Controller(store=store)
    assert tokens_exist(controller) is False
    made, secret = create_token(controller, team=team, role="operator", name="deploys", expires="1h")
    assert secret.startswith(f"sst_{made.id}_") and len(secret) == 4 + 12 + 1 + 43
    assert made.expires is not None and 3590 < made.expires - made.created <= 3600
    assert store.find_token(secret_sha256(secret)) == made and tokens_exist(controller)
    principal = authenticate(controller, secret)
    assert (principal.name, principal.team, principal.role, principal.token) == ("deploys", team, "operator", made.id)
    assert store.find_token(secret_sha256(secret)).last_used is not None  # type: ignore[union-attr]
    assert [t.id for t in list_tokens(controller)] == [made.id]

    forever, other = create_token(controller, team=team, role="viewer")
    assert forever.expires is None and authenticate(controller, other).name == f"token {forever.id}"
    revoked, changed = revoke_token(controller, f"sst_{made.id}")
    assert changed and revoked.revoked is not None
    messages = set()
    for bad in (secret, secret[:-1] + ("A" if secret[-1] != "A" else "B"), "sst_nonsense", "", made.id):
        with pytest.raises(Unauthorized) as refused:
            authenticate(controller, bad)
        messages.add(str(refused.value))
    assert len(messages) == 1 and "unknown, revoked or expired" in messages.pop()  # never says which


def test_bad_values_are_refused_before_anything_is_kept(store: SQLStore, team: str) -> None:
    controller = Controller(store=store)
    for kwargs, expect in (({"role": "admin"}, "not a token role"), ({"team": "Web"}, "not a team name"),
                           ({"expires": "0d"}, "cannot expire"), ({"expires": "soon"}, "not an age"),
                           ({"name": "a\nb"}, "not a token name"), ({"name": "x" * 65}, "not a token name")):
        with pytest.raises(BadInput, match=expect):
            create_token(controller, **{"team": team, "role": "viewer", **kwargs})  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="not a token id"):
        revoke_token(controller, "nope")
    assert store.has_tokens() is False


def test_on_postgresql_a_token_acts_as_a_team_of_the_store(backend: Backend, store: SQLStore, team: str) -> None:
    controller = Controller(store=store)
    if backend.name == "sqlite":
        assert create_token(controller, team="anything", role="viewer")[0].team == "anything"  # a label
        return
    with pytest.raises(BadInput, match=r"there is no team nosuchteam in the audit store .*store add-team nosuchteam"):
        create_token(controller, team="nosuchteam", role="viewer")
    assert create_token(controller, team=team, role="viewer")[0].team == team


def forms(value: str) -> list[bytes]:
    """How a secret could sit in a file or a dump: as text, hex or base64 of its bytes."""
    raw = value.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw)]


def dump(backend: Backend) -> bytes:
    """The whole store as its bytes: the SQLite file with its WAL, or a pg_dump of the database."""
    if backend.pg is None:
        path = Path(backend.location)
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    pg = backend.pg
    done = subprocess.run(["pg_dump", "--no-owner", "-h", pg.host, "-p", str(pg.port), "-U", pg.user, backend.database],
                          env={"PGPASSFILE": str(pg.passfile), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_secret_is_nowhere_in_the_store(backend: Backend, store: SQLStore, team: str) -> None:
    made, secret = create_token(Controller(store=store), team=team, role="operator", name="dumped")
    authenticate(Controller(store=store), secret)
    store.flush()
    stored = dump(backend)
    assert secret_sha256(secret).encode() in stored and made.id.encode() in stored  # the dump is the real thing
    secret_part = secret[len(f"sst_{made.id}_"):]
    for form in (*forms(secret), *forms(secret_part)):
        assert form not in stored
