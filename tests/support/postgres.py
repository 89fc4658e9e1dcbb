"""A real PostgreSQL for the tests: the server .ci/postgres.sh starts, one fresh database per test.

.ci/postgres.sh (run by `make setup`) starts Debian's cluster 15/main and writes a pgpass file with one line,
host:port:*:stackscripts_test:PASSWORD, for a superuser role the tests log in as over TCP with that password
(scram-sha-256): every PostgreSQL test exercises the password path (libpq reads PGPASSFILE; the password is in
no DSN and on no command line). The file's path: $STACKSCRIPTS_TEST_PGPASS, else /var/lib/stackscripts-test/pgpass.

A missing server is a missing part (tests/support/parts.py `require`): skipped locally, a failure under CI=true.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.parts import require

PASSFILE = Path(os.environ.get("STACKSCRIPTS_TEST_PGPASS", "/var/lib/stackscripts-test/pgpass"))
PART = "PostgreSQL 15 with the stackscripts_test role (.ci/postgres.sh; make setup runs it)"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    passfile: Path

    def dsn(self, database: str) -> str:
        """A password-free DSN (libpq finds the password in the pgpass file)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to log in: the pgpass file, and no PGPASSWORD that would win over it."""
        return {"PGPASSFILE": str(self.passfile)}

    def password(self) -> str:
        return self.passfile.read_text().split("\n", 1)[0].split(":", 4)[4]


def server() -> Server | None:
    """The test server if its pgpass file is there and it accepts connections, else None."""
    try:
        host, port, _, user, _ = PASSFILE.read_text().split("\n", 1)[0].split(":", 4)
    except (OSError, ValueError):
        return None
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return None
    return Server(host, int(port), user, PASSFILE)


def require_postgres() -> Server:
    found = server()
    require(found is not None, PART)
    assert found is not None
    os.environ["PGPASSFILE"] = str(found.passfile)  # for the stores this process opens (and its children)
    os.environ.pop("PGPASSWORD", None)
    return found


def connect(pg: Server, database: str = "postgres", *, autocommit: bool = True) -> Any:
    """A raw psycopg connection, as an administrator or a test checking what is stored would use."""
    import psycopg

    return psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=database, passfile=str(pg.passfile),
                           autocommit=autocommit)


@contextmanager
def fresh_database(pg: Server) -> Iterator[str]:
    """A new empty database for one test (about 0.1 s), dropped afterwards with anything still connected."""
    name = f"sst_{os.getpid()}_{secrets.token_hex(4)}"
    with connect(pg) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connect(pg) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(pg: Server, database: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement (qmark `?` parameters, as with sqlite3) and return its rows, if any."""
    with connect(pg, database) as conn:
        cursor = conn.execute(sql.replace("?", "%s"), tuple(params))
        return list(cursor.fetchall()) if cursor.description else []
