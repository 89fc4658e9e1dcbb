"""API tokens of the web dashboard: made (the secret given back once), listed, revoked, and checked.

    from stackscripts.api import Controller, tokens

    with Controller(db) as c:
        record, secret = tokens.create_token(c, team="web", role="viewer", name="ci", expires="90d")
        tokens.authenticate(c, secret)   # Principal(name='ci', team='web', role='viewer', token=record.id)

A token is `sst_<id>_<secret>`: the id (12 hex digits) is public (listed, revoked by, left visible when a log is
redacted); the secret is 32 random bytes (43 base64url characters). The store keeps only the sha256 of the whole
token, which is enough for a secret of that entropy (no salt or slow hash needed), and finds a token by it.
`authenticate` answers one `Unauthorized` for an unknown, revoked or expired token alike, and records a token's
use at most once a minute. Who may make and see a team's tokens: store/sql_tokens.py (docs/team-store.md, "Tokens").
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import BadInput, StackscriptsError, Unauthorized
from ..project import team_problem
from ..store.tokens import ROLES, TokenRecord
from .output import parse_age

if TYPE_CHECKING:
    from .controller import Controller

__all__ = ["DEFAULT_EXPIRY", "ROLES", "Principal", "TokenRecord", "authenticate", "create_token", "list_tokens",
           "parse_token_id", "revoke_token", "secret_sha256", "tokens_exist"]

PREFIX = "sst_"
TOKEN = re.compile(r"sst_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_ID = re.compile(r"(?:sst_)?([0-9a-f]{12})(?:_\S*)?")  # what `revoke` takes: the id, sst_<id>, or a whole token
DEFAULT_EXPIRY = "90d"  # the CLI's --expires default
TOUCH_EVERY = 60.0  # seconds: a token's last use is recorded at most this often
NAME_MAX = 64
UNKNOWN = "the token is unknown, revoked or expired"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a token's name, team and role (web/auth.py adds the loopback principal)."""

    name: str
    team: str | None  # None: every team the dashboard's store shows (only the loopback principal, without tokens)
    role: str  # viewer (sees) or operator (also acts)
    token: str | None = None  # the token's public id (None for the loopback principal)


def secret_sha256(secret: str) -> str:
    """What the store keeps of a token: the sha256 (hex) of the whole token text."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _expiry(expires: float | str | None) -> float | None:
    """Seconds of life from an age (90d, 12h), a number of seconds, or None / "never" (no expiry)."""
    if expires is None or (isinstance(expires, str) and expires.strip().lower() == "never"):
        return None
    seconds = parse_age(expires) if isinstance(expires, str) else float(expires)
    if not 0 < seconds < float("inf"):
        raise BadInput(f"a token cannot expire in {expires!r}",
                       hint="Give an age above 0 (--expires 90d, 12h, 2w) or 'never'.")
    return seconds


def _checked_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not name.strip() or len(name) > NAME_MAX or not name.isprintable():
        raise BadInput(f"{name[:NAME_MAX]!r} is not a token name: 1 to {NAME_MAX} printable characters",
                       hint="Name what the token is for, e.g. --name ci-dashboard.")
    return name


def create_token(controller: Controller, *, team: str, role: str, name: str | None = None,
                 expires: float | str | None = None) -> tuple[TokenRecord, str]:
    """Make a token acting as `role` (viewer or operator) of `team`, expiring after `expires` (an age such as 90d,
    seconds, or None: never); the record and the token itself, which nothing keeps: give it to its user now.
    BadInput for a role, team name, name or expiry that is not one, and on PostgreSQL for a team that is not a
    team of the store (`store add-team`) or not yours."""
    from .controller import who

    if role not in ROLES:
        raise BadInput(f"{role!r} is not a token role", hint="Give --role viewer (sees) or --role operator (also acts).")
    problem = team_problem(team)
    if problem:
        raise BadInput(problem, hint="Name the team the token acts as, e.g. --team web.")
    life = _expiry(expires)
    now = time.time()
    token_id = secrets.token_hex(6)
    secret = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    record = TokenRecord(token_id, team, role, _checked_name(name), who(), now, None if life is None else now + life)
    controller.store.put_token(record, secret_sha256(secret))
    return record, secret


def list_tokens(controller: Controller, team: str | None = None) -> list[TokenRecord]:
    """Every token this user may see (on PostgreSQL: of their teams), newest first, revoked and expired too; never
    a secret (the store has none)."""
    return controller.store.list_tokens(team)


def parse_token_id(text: str) -> str:
    """The id in what a user names a token by: the id, `sst_<id>`, or the whole token; BadInput otherwise."""
    match = _ID.fullmatch(text.strip())
    if match is None:
        raise BadInput(f"{text[:20]!r} is not a token id (12 hex digits)",
                       hint="List the tokens and their ids with 'stackscripts tokens list'.")
    return match.group(1)


def revoke_token(controller: Controller, token_id: str) -> tuple[TokenRecord, bool]:
    """Revoke a token by its id (or `sst_<id>`, or the token itself): refused from the next request on. The record
    and whether it changed (False: revoked already). NotFound for a token this user does not see."""
    return controller.store.revoke_token(parse_token_id(token_id), time.time())


def authenticate(controller: Controller, secret: str) -> Principal:
    """The principal a token acts as; Unauthorized, with one message, for a token that is malformed, unknown,
    revoked or expired. Records the token's use (at most once a minute)."""
    if not isinstance(secret, str) or TOKEN.fullmatch(secret) is None:
        raise Unauthorized(UNKNOWN, hint=_ASK)
    digest = secret_sha256(secret)
    found = controller.store.find_token(digest)
    now = time.time()
    if found is None or found.state(now) != "active":
        raise Unauthorized(UNKNOWN, hint=_ASK)
    if found.last_used is None or now - found.last_used >= TOUCH_EVERY:
        try:
            controller.store.touch_token(found.id, now, TOUCH_EVERY)
        except StackscriptsError:  # a read-only store (a standby) still authenticates; only last_used is lost
            pass
    return Principal(found.name or f"token {found.id}", found.team, found.role, found.id)


def tokens_exist(controller: Controller) -> bool:
    """Whether any token was ever made in this store (revoked and expired ones count) that this user sees: once one
    was, the dashboard asks every request for a token, even on loopback (a reverse proxy makes clients local)."""
    return controller.store.has_tokens()


_ASK = "Sign in with a valid token, or ask for one ('stackscripts tokens create --team TEAM --role viewer')."
