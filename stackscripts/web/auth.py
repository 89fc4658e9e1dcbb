"""Who a request to the web dashboard acts as, what it may see and do, and keeping tokens out of logs.

Pure Python: the app passes plain values (the Authorization header, the session cookie, the client's address).

- Without any token in the store, the dashboard binds only to loopback (`bind_allowed`) and every loopback request
  acts as `LOOPBACK` (every team, operator); a request from elsewhere is `Unauthorized`. `host_allowed` also wants a
  loopback Host header then, so that a page of another site whose name was re-pointed at 127.0.0.1 (DNS
  rebinding) is refused.
- Once a token was ever made (revoked and expired ones count: `api.tokens.tokens_exist`), every request needs one,
  loopback too (a reverse proxy on the same machine makes every client look local): `Authorization: Bearer TOKEN`
  for the API, the `SESSION_COOKIE` (holding the token) for a browser. Unknown, revoked, expired: `Unauthorized`,
  which the app answers with 401.
- `can_act`: operators only. `visible`: the principal's team only; a record of another team must be answered as
  404, never 403, so that its id says nothing.
- `redact` masks tokens, Bearer credentials and the session cookie in any text; `redact_logs` installs it on
  loggers and their handlers (see docs/team-store.md, "Tokens", for where the app must use them).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..api.tokens import Principal, authenticate
from ..errors import BadInput, Unauthorized

if TYPE_CHECKING:
    from ..api.controller import Controller

__all__ = ["LOOPBACK", "SESSION_COOKIE", "Principal", "RedactFilter", "bind_allowed", "can_act", "host_allowed",
           "is_loopback", "principal_of", "redact", "redact_logs", "visible"]

LOOPBACK = Principal("local", None, "operator")  # a dashboard without tokens, asked from this machine
SESSION_COOKIE = "stackscripts_session"  # a browser's token (or, without tokens, a random session for CSRF)
MAKE_ONE = "stackscripts tokens create --team TEAM --role viewer"


def is_loopback(host: str | None) -> bool:
    """Whether an address or bind host is this machine's loopback: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost."""
    name = (host or "").strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def bind_allowed(host: str, tokens_exist: bool) -> bool:
    """True when the dashboard may listen on `host`: always once tokens exist, else only on loopback. BadInput
    (exit 2) naming the fix otherwise."""
    if tokens_exist or is_loopback(host):
        return True
    raise BadInput(f"cannot serve on {host}: the audit store has no API token, and without tokens the dashboard "
                   "answers only on loopback (127.0.0.1, ::1, localhost), where everyone on this machine may act on "
                   "every team", hint=f"Make a token first ('{MAKE_ONE}') and sign in with it, or bind to 127.0.0.1.")


def host_allowed(host_header: str | None, tokens_exist: bool) -> bool:
    """Whether a request's Host header may be served: any once tokens exist; without tokens only a loopback name
    (127.0.0.1:8080, [::1]:8080, localhost), so that DNS rebinding cannot reach the dashboard."""
    if tokens_exist:
        return True
    host = (host_header or "").strip()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return is_loopback(host)


def _bearer(authorization: str) -> str:
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("the Authorization header is not 'Bearer TOKEN'",
                           hint=f"Send 'Authorization: Bearer TOKEN' with a token made by '{MAKE_ONE}'.")
    return credential.strip()


def principal_of(controller: Controller, *, authorization: str | None, cookie: str | None, client_host: str | None,
                 tokens_exist: bool) -> Principal:
    """Who a request acts as. Without tokens: `LOOPBACK` for a loopback client, Unauthorized for any other. With
    tokens: the Bearer header's token (the API), else the session cookie's (a browser); Unauthorized for none, or
    one unknown, revoked or expired (the app answers 401)."""
    if not tokens_exist:
        if is_loopback(client_host):
            return LOOPBACK
        raise Unauthorized("this dashboard has no API token yet: it answers only requests from this machine",
                           hint=f"Make a token ('{MAKE_ONE}') and send it as 'Authorization: Bearer TOKEN'.")
    secret = _bearer(authorization) if authorization and authorization.strip() else (cookie or "").strip()
    if not secret:
        raise Unauthorized("a token is needed",
                           hint="Send 'Authorization: Bearer TOKEN' (the API), or sign in with a token (a browser).")
    return authenticate(controller, secret)


def can_act(principal: Principal) -> bool:
    """Whether the principal may act (boot, resume, run a script, terminate, cancel): operators only."""
    return principal.role == "operator"


def visible(principal: Principal, team: str | None) -> bool:
    """Whether a record of `team` exists for the principal; False must be answered as 404 (never 403)."""
    return principal.team is None or principal.team == team


_PATTERNS = (
    (re.compile(r"\b(sst_[0-9a-f]{12}_)[A-Za-z0-9_-]+"), r"\1***"),  # a token: its public id stays
    (re.compile(r"(?i)\b(bearer)(\s+|%20|\+)[^\s,;\"'&]+"), r"\1\2***"),
    (re.compile(rf"(?i)\b({SESSION_COOKIE}|csrf_token|access_token|token)=[^\s,;\"'&]+"), r"\1=***"),
)


def redact(text: str) -> str:
    """The text with every token, Bearer credential, session cookie and token=... value masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _masked(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (int, float)):
        return value
    shown = str(value)
    cleaned = redact(shown)
    return value if cleaned == shown else cleaned


class RedactFilter(logging.Filter):
    """A logging filter that masks tokens in a record's message, arguments (their count and order kept: uvicorn's
    access formatter unpacks them), exception text and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _masked(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def redact_logs(*names: str) -> None:
    """Install `RedactFilter` on the named loggers ("" is the root) and on each of their handlers (a logger's own
    filter misses records its children pass up; a handler's sees them all). Once per logger or handler."""
    for name in names or ("",):
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactFilter) for f in target.filters):
                target.addFilter(RedactFilter())
