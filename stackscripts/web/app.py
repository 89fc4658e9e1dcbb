"""The ASGI app: Starlette routes over the dashboard's framework-free handlers (the only module importing Starlette).

    from stackscripts.api import Controller
    from stackscripts.web.app import create_app
    app = create_app(Controller(db))          # serve it with stackscripts.web.serve (uvicorn)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from ..api.controller import Controller
from ..envelope import document, error_of
from ..errors import BadInput, Conflict, NotFound, StackscriptsError, Unauthorized
from . import csrf
from .auth import SESSION_COOKIE
from .dashboard import BadHost, Call, Dashboard
from .openapi import document as openapi
from .render import static_file
from .routes import ROUTES, Redirect, Route, Stream
from .scope import Forbidden

log = logging.getLogger("stackscripts.web")

BODY_MAX = 256 * 1024  # a form or API request body
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]
EXTRA = (("GET", "/api/v1/openapi.json", "This document."), ("GET", "/static/{name}", "The app's own script and CSS."),
         ("GET", "/login", "Sign in with a token."), ("POST", "/login", "Sign in: the token in a cookie."),
         ("POST", "/logout", "Sign out."))
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def status_of(exc: BaseException) -> int:
    for kind, status in ((Unauthorized, 401), (Forbidden, 403), (BadHost, 403), (NotFound, 404), (BadInput, 400),
                         (Conflict, 409)):
        if isinstance(exc, kind):
            return status
    return 400 if isinstance(exc, StackscriptsError) and exc.exit_code == 2 else 500


def command_of(route: Route) -> str:
    """The CLI command an API route answers as (`servers list`), or the action's name."""
    named = re.match(r"`([a-z][a-z ]*?)(?= [A-Z\[]| --|`)", route.summary)
    return named.group(1) if named else route.path.rstrip("/").rsplit("/", 1)[-1]


class Dashboards:
    """The Starlette side of one Dashboard: requests in, the handlers' answers out."""

    def __init__(self, dash: Dashboard) -> None:
        self.d = dash

    def html(self, template: str, context: dict[str, Any], call: Call | None, status: int = 200) -> Response:
        frame = self.d.chrome(call, "") if call else {"who": None, "can_act": False, "csrf": "", "active": "",
                                                          "csrf_field": csrf.FIELD, "tokens": self.d.tokens_exist(),
                                                          "running_actions": [], "note": ""}
        return HTMLResponse(self.d.renderer.page(template, {**frame, **context}), status)

    def failure(self, route: Route | None, exc: BaseException, call: Call | None) -> Response:
        status = status_of(exc)
        if status == 500:
            log.error("internal error on %s: %s", route.path if route else "?", exc, exc_info=exc)
            exc = StackscriptsError("internal error: the dashboard's log has the details")
        if route is not None and route.kind in ("api", "live"):
            body = document(command_of(route), error=error_of(exc, exit_code=getattr(exc, "exit_code", 3)))
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return Response(json.dumps(body, ensure_ascii=False), status, headers, "application/json")
        if status == 401:
            return self.html("login.html", {"error": str(exc)}, None, 401)
        return self.html("error.html", {"status": status, "error": str(exc)}, call, status)

    async def who(self, request: Request, session: str) -> Any:
        return await run_in_threadpool(self.d.principal, authorization=request.headers.get("authorization"),
                                       session=session or None, client=request.client.host if request.client else None,
                                       host=request.headers.get("host"))

    async def form(self, request: Request) -> dict[str, list[str]]:
        body = await request.body()
        if len(body) > BODY_MAX:
            raise BadInput(f"the request body is over {BODY_MAX} bytes")
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind in ("", "application/x-www-form-urlencoded"):
            return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if kind == "application/json":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise BadInput("the JSON body must be an object")
            return {str(k): [str(v)] for k, v in data.items() if v is not None}
        raise BadInput(f"a body of type {kind!r} is not taken", hint="Send a form or a JSON object.")

    def endpoint(self, route: Route) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            session = request.cookies.get(SESSION_COOKIE, "")
            call: Call | None = None
            try:
                who = await self.who(request, session)
                fresh = "" if session or self.d.tokens_exist() else csrf.new_session()
                session = session or fresh
                bearer = bool((request.headers.get("authorization") or "").strip())
                form = await self.form(request) if request.method == "POST" else {}
                call = Call(who, {k: str(v) for k, v in request.path_params.items()}, parse_qs(request.url.query),
                            form, session, self.d.csrf_of(session), bearer)
                if request.method == "POST" and not bearer:
                    submitted = next(iter(form.get(csrf.FIELD) or []), None) or request.headers.get(csrf.HEADER)
                    if not self.d.csrf_ok(session, submitted):
                        raise Forbidden("the form's CSRF token is missing or stale",
                                        hint="Load the page again and resubmit it.")
                if route.kind == "live":
                    call.query.setdefault("after", [request.headers.get("last-event-id") or "0"])
                result = await run_in_threadpool(route.handler, self.d, call)
                response = self.respond(route, call, result)
            except StackscriptsError as exc:
                return self.failure(route, exc, call)
            except Exception as exc:  # the last line: logged (redacted), answered 500
                return self.failure(route, exc, call)
            if fresh:
                response.set_cookie(SESSION_COOKIE, fresh, httponly=True, samesite="strict", path="/")
            return response
        handle.__doc__ = route.summary
        return handle

    def respond(self, route: Route, call: Call, result: Any) -> Response:
        if isinstance(result, Redirect):
            return RedirectResponse(result.url, 303)
        if isinstance(result, Stream):
            return StreamingResponse(self.d.hub.stream(result.run_id, result.after), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        if isinstance(result, tuple):
            command, data = result
            return Response(json.dumps(document(command, data=data), ensure_ascii=False), 200, None,
                            "application/json")
        return HTMLResponse(self.d.renderer.page(result.template, {**result.context, **self.d.chrome(call, route.nav)}),
                            result.status)

    async def login_page(self, request: Request) -> Response:
        if not self.d.tokens_exist():
            return RedirectResponse("/", 303)
        return self.html("login.html", {"error": ""}, None)

    async def login(self, request: Request) -> Response:
        """Sign in: the token is checked, then kept in an HttpOnly, SameSite=Strict cookie."""
        try:
            token = ((await self.form(request)).get("token") or [""])[0].strip()
            await run_in_threadpool(self.d.principal, authorization=f"Bearer {token}", session=None,
                                    client=request.client.host if request.client else None,
                                    host=request.headers.get("host"))
        except StackscriptsError as exc:
            return self.html("login.html", {"error": str(exc)}, None, status_of(exc))
        response = RedirectResponse("/servers", 303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    async def logout(self, request: Request) -> Response:
        session = request.cookies.get(SESSION_COOKIE, "")
        submitted = next(iter((await self.form(request)).get(csrf.FIELD) or []), None)
        if not self.d.csrf_ok(session, submitted):
            return self.failure(None, Forbidden("the form's CSRF token is missing or stale"), None)
        response = RedirectResponse("/login" if self.d.tokens_exist() else "/", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def static(self, request: Request) -> Response:
        found = static_file(str(request.path_params["name"]))
        if found is None:
            return Response("not found", 404, media_type="text/plain")
        return Response(found[0], 200, {"Cache-Control": "max-age=300"}, found[1])

    async def openapi(self, request: Request) -> Response:
        return Response(json.dumps(openapi(ROUTES, EXTRA), indent=2), 200, None, "application/json")


class SecurityHeaders:
    """A pure ASGI wrapper adding the security headers (CSP: only our own script runs) to every answer."""

    def __init__(self, app: Any, dashboard: Dashboard) -> None:
        self.app = app
        self.dashboard = dashboard  # for the server (its hub, its actions) and for tests

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, sending)


def create_app(controller: Controller, *, secret: bytes | None = None) -> SecurityHeaders:
    """The dashboard over a Controller's store, as an ASGI app."""
    web = Dashboards(Dashboard(controller, secret=secret))
    routes: list[BaseRoute] = [StarletteRoute(r.path, web.endpoint(r), methods=[r.method]) for r in ROUTES]
    routes += [StarletteRoute("/api/v1/openapi.json", web.openapi, methods=["GET"]),
               StarletteRoute("/static/{name}", web.static, methods=["GET"]),
               StarletteRoute("/login", web.login_page, methods=["GET"]),
               StarletteRoute("/login", web.login, methods=["POST"]),
               StarletteRoute("/logout", web.logout, methods=["POST"])]
    return SecurityHeaders(Starlette(routes=routes), web.d)


__all__ = ["SecurityHeaders", "create_app"]
