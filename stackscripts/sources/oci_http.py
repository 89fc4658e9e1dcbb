"""HTTP to an OCI registry's API for the OCI source (`oci.py`): requests, the registry's auth challenge, errors.

Standard library only. Credentials: `STACKSCRIPTS_OCI_USERNAME` / `STACKSCRIPTS_OCI_PASSWORD`, else the host's
`auths` entry of `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`; `auth` = base64 of user:password;
credential helpers are not run). They answer the registry's challenge: Basic (docker-registry with htpasswd), or
Bearer (a token from the challenge's realm). A password is never printed, and never sent on to a redirect's host.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode, urljoin

from ..errors import BadInput

TIMEOUT = 10.0
HINT = ("Check the URL (oci://HOST:PORT/REPOSITORY), that the registry is up and reachable, and your credentials "
        "(STACKSCRIPTS_OCI_USERNAME/STACKSCRIPTS_OCI_PASSWORD or ~/.docker/config.json); plain HTTP is used only "
        "for 127.0.0.1, localhost and ::1, or with STACKSCRIPTS_OCI_INSECURE=1.")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message
    body: bytes

    def errors(self) -> str:
        """The registry's error codes and messages, if its body has them."""
        try:
            errors = json.loads(self.body)["errors"]
            return "; ".join(f"{e.get('code', '?')}: {e.get('message', '')}" for e in errors)
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.body[:200].decode("utf-8", "replace").strip()


class RegistryClient:
    """Requests to one repository's API (`endpoint`: .../v2/REPOSITORY/); failures are `bad(message, hint)`."""

    def __init__(self, host: str, endpoint: str, bad: Callable[..., BadInput]) -> None:
        self.host, self.endpoint, self.bad = host, endpoint, bad
        self._auth: str | None = None

    def credentials(self) -> tuple[str, str] | None:
        user, password = os.environ.get("STACKSCRIPTS_OCI_USERNAME"), os.environ.get("STACKSCRIPTS_OCI_PASSWORD")
        if user and password is not None:
            return user, password
        config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
        try:
            auths = json.loads(config.read_text()).get("auths", {})
            for key, entry in auths.items():
                if re.sub(r"^[a-z]+://", "", key).split("/")[0] == self.host and entry.get("auth"):
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                    return user, password
        except (OSError, ValueError, AttributeError, UnicodeDecodeError):
            pass
        return None

    def _open(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Response:
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        if self._auth:
            request.add_unredirected_header("Authorization", self._auth)  # not sent on to a redirect's host
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return Response(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.headers, exc.read())
        except urllib.error.URLError as exc:
            raise self.bad(f"cannot reach the source: {exc.reason} ({method} {url})", hint=HINT) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, malformed responses
            raise self.bad(f"cannot reach the source: {exc or type(exc).__name__} ({method} {url})", hint=HINT) from None

    def _answer(self, challenge: str) -> str | None:
        """The Authorization header answering a WWW-Authenticate challenge, or None."""
        creds = self.credentials()
        basic = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode() if creds else None
        if challenge.lower().startswith("basic"):
            return basic
        if not challenge.lower().startswith("bearer"):
            return None
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        self._auth = basic
        reply = self._open("GET", f"{realm}{'&' if '?' in realm else '?'}{urlencode(params)}", None, {}) if realm else None
        self._auth = None
        try:
            token = json.loads(reply.body) if reply and reply.status == 200 else {}
            return f"Bearer {token.get('token') or token['access_token']}"
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def call(self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
        """One request to the repository's API (path relative to /v2/REPOSITORY/, or absolute); 401 is answered once."""
        url = urljoin(self.endpoint, path)
        response = self._open(method, url, data, headers or {})
        if response.status == 401:
            answer = self._answer(response.headers.get("WWW-Authenticate", ""))
            if answer and answer != self._auth:
                self._auth = answer
                response = self._open(method, url, data, headers or {})
        if response.status == 401:
            creds = self.credentials()
            who = f"the credentials of {creds[0]!r} were refused" if creds else f"no credentials for {self.host}"
            raise self.bad(f"access denied (HTTP 401, {who}): {method} {url}", hint=HINT)
        return response

    def failed(self, response: Response, what: str) -> BadInput:
        detail = response.errors()
        if response.status == 403:
            return self.bad(f"{what}: access denied (HTTP 403: {detail})", hint=HINT)
        if response.status >= 500:
            return self.bad(f"cannot reach the source: {what}: the registry failed (HTTP {response.status}: {detail})",
                            hint="Retry later; if it persists, tell the registry's operator.")
        return self.bad(f"{what}: HTTP {response.status} ({detail})", hint=HINT)
