"""The web dashboard's API tokens on either backend: kept by the sha256 of their secret, never the secret itself.

Part of `SQLStore` (store/sql_store.py). On PostgreSQL a token's team must be a team of the store (`store add-team`)
and the user a member of it (or an admin): the table is under the teams' row-level security (store/access.py), so a
team's members alone see, make and revoke its tokens. On SQLite a team is a label: any team name will do.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import BadInput, NotFound
from . import access
from .rows import Row
from .sql import SQLCore
from .tokens import TokenRecord

_COLUMNS = "id, secret_sha256, team, role, name, who, created, expires, last_used, revoked"


def token_record(row: Row) -> TokenRecord:
    return TokenRecord(str(row["id"]), str(row["team"]), str(row["role"]), row["name"], str(row["who"] or ""),
                       float(row["created"]), row["expires"], row["last_used"], row["revoked"])


class TokensSQL(SQLCore):
    """Store methods for API tokens (see store.base.Store)."""

    def put_token(self, token: TokenRecord, secret_sha256: str) -> None:
        with self._tx() as tx:
            if tx.dialect == "postgresql":
                if token.team not in access.team_roles(tx):
                    raise BadInput(f"there is no team {token.team} in the audit store {self.location}: a token acts "
                                   "as one team of the store",
                                   hint=f"Make it first with 'stackscripts store add-team {token.team}' (as the tables' "
                                        "owner), or name one of the teams 'stackscripts store teams' lists.")
                access.check_writer(tx, token.team, f"a token for team {token.team}")
            tx.run(f"INSERT INTO api_tokens ({_COLUMNS}) VALUES (:id, :secret_sha256, :team, :role, :name, :who, "
                   ":created, :expires, :last_used, :revoked)",
                   {"id": token.id, "secret_sha256": secret_sha256, "team": token.team, "role": token.role,
                    "name": token.name, "who": token.who, "created": token.created, "expires": token.expires,
                    "last_used": token.last_used, "revoked": token.revoked})

    def find_token(self, secret_sha256: str) -> TokenRecord | None:
        with self._tx(write=False) as tx:
            row = tx.one(f"SELECT {_COLUMNS} FROM api_tokens WHERE secret_sha256 = :sha", {"sha": secret_sha256})
        return None if row is None else token_record(row)

    def list_tokens(self, team: str | None = None) -> list[TokenRecord]:
        where = "" if team is None else " WHERE team = :team"
        with self._tx(write=False) as tx:
            rows = tx.all(f"SELECT {_COLUMNS} FROM api_tokens{where} ORDER BY created DESC, id", {"team": team})
        return [token_record(row) for row in rows]

    def revoke_token(self, token_id: str, at: float) -> tuple[TokenRecord, bool]:
        with self._tx() as tx:
            row = tx.one(f"SELECT {_COLUMNS} FROM api_tokens WHERE id = :id{tx.for_update}", {"id": token_id})
            if row is None:
                raise NotFound(f"unknown token {token_id!r}",
                               hint="List the tokens (and their ids) with 'stackscripts tokens list'.")
            found = token_record(row)
            if found.revoked is not None:
                return found, False
            tx.run("UPDATE api_tokens SET revoked = :at WHERE id = :id", {"at": at, "id": token_id})
        return replace(found, revoked=at), True

    def touch_token(self, token_id: str, at: float, every: float = 60.0) -> bool:
        with self._tx(atomic=False) as tx:  # one statement: the condition makes concurrent uses write once
            return tx.run("UPDATE api_tokens SET last_used = :at WHERE id = :id "
                          "AND (last_used IS NULL OR last_used <= :before)",
                          {"at": at, "id": token_id, "before": at - every}) > 0

    def has_tokens(self) -> bool:
        with self._tx(write=False) as tx:
            return tx.one("SELECT 1 AS found FROM api_tokens LIMIT 1") is not None
