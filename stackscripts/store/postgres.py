"""The team store: the same `SQLStore` on a PostgreSQL database (psycopg 3, through SQLAlchemy), named by a DSN.

    STACKSCRIPTS_DB=postgresql://stackscripts@db.internal:5432/stackscripts   (or --db; postgres:// too)

The password is never part of the DSN, nor of any command line: libpq finds it by its own rules (PGPASSWORD,
else the file PGPASSFILE, else ~/.pgpass), and other libpq settings (PGSSLMODE, PGCONNECT_TIMEOUT, ...) apply as
usual; DSN query parameters (?sslmode=require) are passed on. Every message shows the DSN without a password; an
unreachable server, a refused login or a missing database is BadInput (exit 2) that says which and what to check.
"""

from __future__ import annotations

import os
import re
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import BadInput, StackscriptsError
from . import is_dsn
from .engine import EngineLink
from .sql_store import SQLStore

CONNECT_TIMEOUT = 10  # seconds, unless the DSN or PGCONNECT_TIMEOUT says otherwise
_SECRET_PARAMS = {"password"}


def redact(dsn: str) -> str:
    """The DSN without any password (in its user part or its query), safe to print."""
    try:
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            netloc = f"{userinfo.split(':', 1)[0]}@{hostport}"
        query = urlencode([(k, "****" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)])
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1@", dsn.split("?", 1)[0])


def _parse(dsn: str) -> SplitResult:
    shown = redact(dsn)
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"{shown} is not a PostgreSQL DSN: {exc}",
                       hint="Write postgresql://USER@HOST:PORT/DATABASE.") from None
    if parts.password is not None or any(k.lower() in _SECRET_PARAMS for k, _ in parse_qsl(parts.query)):
        raise BadInput(f"the DSN {shown} carries a password: stackscripts never takes one in a DSN or on a command line",
                       hint="Remove it from the DSN and put it in ~/.pgpass (or the file PGPASSFILE names, mode 0600): "
                            "HOST:PORT:DATABASE:USER:PASSWORD.")
    if port == 0:
        raise BadInput(f"{shown}: port 0 is not a port", hint="Write postgresql://USER@HOST:PORT/DATABASE.")
    return parts


class PostgresStore(SQLStore):
    """Servers, runs, steps and revisions in one PostgreSQL database, shared by every controller that names it."""

    backend = "postgresql"

    def __init__(self, dsn: str, *, flush_interval: float = 1.0, migrate: bool = True) -> None:
        """Connect (BadInput naming the password-free DSN if that fails), migrate the schema, interrupt dead local
        runs. migrate=False: only connect (as `store status` does: nothing is written)."""
        if not is_dsn(dsn):
            raise BadInput(f"{redact(dsn)} is not a PostgreSQL DSN", hint="Write postgresql://USER@HOST:PORT/DATABASE.")
        parts = _parse(dsn)
        self.dsn = redact(dsn)
        query = dict(parse_qsl(parts.query))
        connect_args: dict[str, object] = {"application_name": "stackscripts"}
        if "connect_timeout" not in query and not os.environ.get("PGCONNECT_TIMEOUT"):
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        def link() -> EngineLink:
            return EngineLink(user=unquote(parts.username) if parts.username else None,
                              host=unquote(parts.hostname) if parts.hostname else None, port=parts.port,
                              database=unquote(parts.path.lstrip("/")) or None, query=query, connect_args=connect_args)

        self._connect(link, self.dsn, flush_interval)
        self._open(migrate=migrate)

    def _error(self, exc: BaseException) -> StackscriptsError:
        if isinstance(exc, StackscriptsError):
            return exc
        reason = _scrub("; ".join(" ".join(line.split()) for line in str(exc).splitlines() if line.strip()))
        state = str(getattr(exc, "sqlstate", "") or "")
        if type(exc).__name__ == "OperationalError" and (not state or state.startswith(("08", "28", "3D"))):
            return BadInput(f"cannot connect to the audit store {self.location}: {_why(reason)}", hint=_hint(reason))
        if state == "42501":  # insufficient privilege
            return BadInput(f"the audit store {self.location} refused: {reason}",
                            hint="Ask the store's owner for access (docs/team-store.md).")
        if state == "25006":  # read-only transaction: a standby
            return BadInput(f"the audit store {self.location} is read-only: {reason}",
                            hint="Name the primary server in the DSN.")
        return StackscriptsError(f"audit store {self.location}: {reason}")


def _scrub(text: str) -> str:
    """Remove a password that a driver message might echo (PGPASSWORD's value)."""
    secret = os.environ.get("PGPASSWORD")
    return text.replace(secret, "****") if secret else text


def _why(reason: str) -> str:
    """libpq's reason without its preamble: 'connection failed: connection to server at ... failed: FATAL: x'."""
    tail = reason.rsplit("failed:", 1)[-1].strip()
    return re.sub(r"^(FATAL|ERROR):\s*", "", tail) or reason


def _hint(reason: str) -> str:
    text = reason.lower()
    if "password" in text:
        return ("Check the password for this user, host and port in ~/.pgpass, the file PGPASSFILE names (mode 0600: "
                "HOST:PORT:DATABASE:USER:PASSWORD), or PGPASSWORD; stackscripts never takes one on a command line.")
    if "database" in text and "does not exist" in text:
        return "Create the database (createdb, as a role allowed to), then run 'stackscripts store init'."
    if "role" in text and "does not exist" in text:
        return "Check the user in the DSN, or ask the database's administrator to create that role."
    return "Check the host and port in the DSN, and that PostgreSQL runs there and accepts TCP connections."
