"""The dashboard's parts over one Controller, and who each request acts as (framework-free: web/app.py adapts it).

A request carries plain values here: its Authorization header, its session cookie, its client's address and Host
header. Without tokens a browser gets a random session cookie on its first page, so that its forms carry a CSRF
token too; with tokens the cookie holds the token it signed in with (web/auth.py, web/csrf.py).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..api.controller import Controller
from ..api.tokens import tokens_exist
from ..errors import BadInput, StackscriptsError
from . import csrf
from .actions import Actions
from .auth import Principal, can_act, host_allowed, principal_of
from .jsonapi import JsonApi
from .live import Hub
from .pages import Pages
from .render import Renderer
from .revision_pages import RevisionPages
from .run_pages import RunPages

TOKENS_TTL = 2.0  # seconds whether the store has tokens is kept (a new token takes effect within this)


class BadHost(StackscriptsError):
    """A Host header that is not this machine's loopback while the dashboard has no token (DNS rebinding)."""

    exit_code = 2


@dataclass(frozen=True)
class Call:
    """One request as the route handlers see it: who asks, and what they sent (path, query and form values)."""

    who: Principal
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)
    session: str = ""  # the session cookie's value (a token, or a random session without tokens)
    csrf: str = ""  # this session's CSRF token, for the forms a page draws
    bearer: bool = False  # authenticated by an Authorization header (the API): no cookie, no CSRF needed

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A path parameter, else the form's, else the query's first value."""
        if name in self.path:
            return self.path[name]
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values and values[0] != "" else default

    def need(self, name: str) -> str:
        value = self.arg(name)
        if value is None:
            raise BadInput(f"{name} is missing", hint=f"Give {name}=... with the request.")
        return value

    def args(self, name: str) -> list[str]:
        return [v for v in (self.form.get(name) or []) + (self.query.get(name) or []) if v]

    def number(self, name: str, default: int, low: int = 0, high: int = 1 << 62) -> int:
        text = self.arg(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise BadInput(f"{name}={text[:40]!r} is not a whole number") from None
        return max(low, min(value, high))


class Dashboard:
    """Everything the routes use: the pages, the JSON API, the live hub, the actions, the templates."""

    def __init__(self, controller: Controller, *, secret: bytes | None = None) -> None:
        self.c = controller
        self.secret = secret or csrf.new_secret()
        self.actions = Actions(controller)
        self.pages = Pages(controller)
        self.runs = RunPages(controller)
        self.revisions = RevisionPages(controller)
        self.api = JsonApi(controller, self.actions)
        self.hub = Hub(controller.store)
        self.renderer = Renderer()
        self._tokens: tuple[float, bool] = (0.0, False)
        self._lock = threading.Lock()

    def tokens_exist(self) -> bool:
        with self._lock:
            at, known = self._tokens
        if time.monotonic() - at < TOKENS_TTL:
            return known
        known = tokens_exist(self.c)
        with self._lock:
            self._tokens = (time.monotonic(), known)
        return known

    def principal(self, *, authorization: str | None, session: str | None, client: str | None,
                  host: str | None) -> Principal:
        """Who the request acts as; Unauthorized (401) or BadHost (a rebinding attempt) otherwise."""
        exist = self.tokens_exist()
        if not host_allowed(host, exist):
            raise BadHost("this dashboard answers only to a loopback host name (127.0.0.1, localhost, [::1]) until "
                          "it has tokens", hint="Open it as http://127.0.0.1:PORT/.")
        return principal_of(self.c, authorization=authorization, cookie=session, client_host=client,
                            tokens_exist=exist)

    def csrf_of(self, session: str) -> str:
        return csrf.csrf_token(self.secret, session) if session else ""

    def csrf_ok(self, session: str | None, submitted: str | None) -> bool:
        return csrf.check_csrf(self.secret, session, submitted)

    def chrome(self, call: Call, active: str) -> dict[str, Any]:
        """What every page's frame shows: who is signed in, whether they may act, the CSRF token for its forms."""
        return {"who": call.who, "can_act": can_act(call.who), "csrf": call.csrf, "csrf_field": csrf.FIELD,
                "active": active, "tokens": self.tokens_exist(), "running_actions": self.actions.running(),
                "note": call.arg("note") or ""}
