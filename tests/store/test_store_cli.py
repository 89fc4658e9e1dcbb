"""`stackscripts store status | init | migrate` on both backends, and every way a PostgreSQL --db can be wrong:
exit 2, one paragraph, the DSN shown without a password, the password never printed, nothing written.

Real CLI processes (tests/support/cli.py) against a real SQLite file or a fresh PostgreSQL database.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from stackscripts.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.store.conftest import Backend
from tests.store.test_schema import tables
from tests.support import postgres
from tests.support.cli import cli_json, no_traceback, run_cli

pytestmark = pytest.mark.timeout(300)
PENDING = [{"version": n + 1, "description": m.description} for n, m in enumerate(MIGRATIONS)]


def test_status_init_and_migrate(backend: Backend) -> None:
    db = backend.location
    empty = cli_json("store", "status", "--db", db)
    assert empty["command"] == "store status"
    assert empty["data"] == {"backend": backend.name, "location": db, "exists": backend.name == "postgresql",
                             "schema_version": 0, "latest_version": SCHEMA_VERSION, "pending": PENDING, "applied": []}
    assert not Path(db).exists() if backend.name == "sqlite" else tables(backend) == set()  # status writes nothing

    refused = cli_json("store", "migrate", "--db", db, code=2)
    assert "there is no audit store at" in refused["error"]["message"] and "store init" in refused["error"]["message"]

    made = cli_json("store", "init", "--db", db)["data"]
    assert (made["schema_version"], made["pending"], made["applied"]) == (SCHEMA_VERSION, [], list(range(1, SCHEMA_VERSION + 1)))
    again = cli_json("store", "init", "--db", db)["data"]
    assert again["applied"] == [] and again["schema_version"] == SCHEMA_VERSION
    assert cli_json("store", "migrate", "--db", db)["data"]["applied"] == []
    status = cli_json("store", "status", "--db", db)["data"]
    assert (status["exists"], status["schema_version"], status["pending"]) == (True, SCHEMA_VERSION, [])

    human = run_cli("store", "status", "--db", db)
    assert human.returncode == 0, human.stderr
    assert f"backend   {backend.name}" in human.stdout and f"location  {db}" in human.stdout
    assert "pending   none" in human.stdout


def test_every_command_works_on_postgres(pg_database: str) -> None:
    """--db and STACKSCRIPTS_DB take a DSN: the same commands, the same answers."""
    assert cli_json("servers", "add", "web1", "--host", "root@10.0.0.5", "--db", pg_database)["ok"]
    listed = cli_json("servers", "list", env={"STACKSCRIPTS_DB": pg_database})
    assert [s["name"] for s in listed["data"]] == ["web1"]
    assert cli_json("runs", "list", "--db", pg_database)["data"] == []
    assert cli_json("store", "status", env={"STACKSCRIPTS_DB": pg_database})["data"]["backend"] == "postgresql"


def refused(*args: str, expect: str, secrets: tuple[str, ...] = (), env: dict[str, str] | None = None) -> str:
    """Exit 2 with one paragraph on stderr (and with --json, one error envelope); no secret anywhere."""
    human = run_cli(*args, env=env)
    assert human.returncode == 2, human.stdout + human.stderr
    assert human.stdout == "" and human.stderr.count("\n") == 1, human.stderr
    assert human.stderr.startswith("stackscripts: error: ") and expect in human.stderr, human.stderr
    no_traceback(human.stderr)
    doc = cli_json(*args, code=2, env=env)
    assert expect in doc["error"]["message"]
    for secret in secrets:
        assert secret not in human.stdout + human.stderr + str(doc), secret
    return human.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


def test_an_unreachable_server(pg: postgres.Server) -> None:
    dsn = f"postgresql://{pg.user}@127.0.0.1:{closed_port()}/stackscripts"
    text = refused("store", "status", "--db", dsn, expect=f"cannot connect to the audit store {dsn}: Connection refused")
    assert "Check the host and port" in text
    refused("runs", "list", "--db", dsn, expect="Connection refused")


def test_a_wrong_password_is_never_printed(pg: postgres.Server, pg_database: str, tmp_path: Path) -> None:
    wrong = tmp_path / "pgpass"
    wrong.write_text(f"{pg.host}:{pg.port}:*:{pg.user}:not-the-Secret-42\n")
    wrong.chmod(0o600)
    secrets = ("not-the-Secret-42", pg.password())
    text = refused("runs", "list", "--db", pg_database, expect="password authentication failed",
                   secrets=secrets, env={"PGPASSFILE": str(wrong)})
    assert "~/.pgpass" in text and pg_database in text
    refused("store", "status", "--db", pg_database, expect="password authentication failed", secrets=secrets,
            env={"PGPASSFILE": str(wrong), "PGPASSWORD": "not-the-Secret-42"})
    assert tables(Backend("postgresql", pg_database, pg, pg_database.rsplit("/", 1)[1])) == set()  # nothing made


def test_a_password_in_the_dsn_is_refused_and_not_shown(pg: postgres.Server) -> None:
    dsn = f"postgresql://{pg.user}:hunter2-secret@{pg.host}:{pg.port}/stackscripts"
    shown = f"postgresql://{pg.user}@{pg.host}:{pg.port}/stackscripts"
    refused("store", "status", "--db", dsn, expect=f"the DSN {shown} carries a password", secrets=("hunter2-secret",))
    refused("servers", "list", "--db", f"{shown}?password=hunter2-secret", expect="carries a password",
            secrets=("hunter2-secret",))


def test_a_missing_database(pg: postgres.Server) -> None:
    dsn = pg.dsn("no_such_database_here")
    text = refused("store", "init", "--db", dsn, expect='database "no_such_database_here" does not exist')
    assert "createdb" in text


def test_a_database_of_another_application(pg: postgres.Server, pg_database: str) -> None:
    name = pg_database.rsplit("/", 1)[1]
    postgres.execute(pg, name, "CREATE TABLE invoices (id BIGINT PRIMARY KEY)")
    for command in (("store", "init"), ("store", "status"), ("servers", "list")):
        refused(*command, "--db", pg_database, expect="is not a stackscripts audit store: it has tables (invoices)")
    assert tables(Backend("postgresql", pg_database, pg, name)) == {"invoices"}


def test_a_schema_newer_than_this_stackscripts(backend: Backend) -> None:
    backend.open().close()
    if backend.name == "sqlite":
        backend.sql(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    else:
        backend.sql("UPDATE stackscripts_schema SET version = ?", (SCHEMA_VERSION + 5,))
    for command in (("store", "migrate"), ("store", "status"), ("runs", "list")):
        refused(*command, "--db", backend.location, expect=f"has schema version {SCHEMA_VERSION + 5}, but this "
                f"stackscripts knows only up to version {SCHEMA_VERSION}")


def test_a_sqlite_file_of_another_application(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "app.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE settings (key TEXT, value TEXT)")
    path.chmod(0o600)
    before = path.read_bytes()
    refused("store", "init", "--db", str(path), expect="is not a stackscripts audit store: it has tables (settings)")
    refused("runs", "list", "--db", str(path), expect="but no stackscripts schema version")
    assert path.read_bytes() == before
