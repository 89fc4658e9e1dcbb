"""`SQLStore`: the whole Store interface, the same code for SQLite and PostgreSQL (SQLAlchemy Core for PostgreSQL).

Its parts: store/sql.py (the connection, transactions, buffered output), store/sql_runs.py (servers, runs,
steps, output), store/sql_revisions.py (revisions, blobs, server events), store/sql_tokens.py (the web dashboard's
API tokens), store/schema_state.py with store/migrations.py (one schema, one set of migrations). The backends
(store/sqlite.py, store/postgres.py) only make the connection (a `sql.Link`), say what their errors mean, and where
they are.
"""

from __future__ import annotations

from typing import Self

from ..errors import BadInput
from . import schema_state
from .migrations import SCHEMA_VERSION
from .schema_state import SchemaStatus
from .sql_revisions import RevisionsSQL
from .sql_runs import RunsSQL
from .sql_tokens import TokensSQL
from .sql_workers import WorkersSQL


class SQLStore(RunsSQL, RevisionsSQL, WorkersSQL, TokensSQL):
    """Servers, runs, steps, output and revisions in one SQL database (see store.base.Store)."""

    def _open(self, *, migrate: bool) -> None:
        """After connecting: check whose database it is, migrate it (unless read-only or asked not to), and
        interrupt the runs of this host's dead controllers. Closes the store if anything fails."""
        try:
            self._before = self.schema_state().version
            if migrate and not self.read_only:
                self._prepare()
                self.migrate()
                self.mark_interrupted()
            elif migrate and self._before != SCHEMA_VERSION:
                raise BadInput(f"the audit store is read-only and its schema (version {self._before}) "
                               f"is not this stackscripts' (version {SCHEMA_VERSION})", file=self.location,
                               hint="Open it once with write access to migrate it.")
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> None:
        """What a backend sets in a database known to be ours (or empty) before migrating it."""

    def schema_state(self) -> schema_state.SchemaState:
        """The schema version, checked: BadInput for another application's database or a newer schema."""
        with self._tx(write=False) as tx:
            state = schema_state.inspect(tx)
        schema_state.check(state, self.location)
        return state

    def migrate(self) -> int:
        """Apply pending migrations (none: no write); the version before."""
        if self.schema_state().version == SCHEMA_VERSION:
            return SCHEMA_VERSION
        with self._tx() as tx:
            return schema_state.migrate(tx, self.location)

    def status(self) -> SchemaStatus:
        """Backend, location, version and pending migrations now; `applied` what opening this store migrated."""
        version = self.schema_state().version
        before = getattr(self, "_before", version)
        return SchemaStatus(self.backend, self.location, True, version, SCHEMA_VERSION,
                            tuple(schema_state.pending(version)), tuple(range(before + 1, version + 1)))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
