"""API tokens as the store keeps them (frozen records): never the secret, only its sha256 (store/sql_tokens.py)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "operator")  # a viewer sees; an operator also acts (boot, resume, run, terminate, cancel)


@dataclass(frozen=True)
class TokenRecord:
    """One API token: its public id, the team and role it acts as, who made it when, its expiry, last use and
    revocation (times in seconds since the epoch; None: never)."""

    id: str  # public: listed, and the part of the token after "sst_" (sst_<id>_<secret>)
    team: str
    role: str  # viewer or operator
    name: str | None = None
    who: str = ""
    created: float = 0.0
    expires: float | None = None
    last_used: float | None = None  # updated at most once a minute
    revoked: float | None = None

    def state(self, now: float) -> str:
        """active, expired or revoked (revoked wins)."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return "expired"
        return "active"
