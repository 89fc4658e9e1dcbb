"""The audit store: servers, runs and steps. One small interface, SQLite embedded by default."""

from .base import RunRecord, ServerRecord, StepRecord, Store, stores

__all__ = ["RunRecord", "ServerRecord", "StepRecord", "Store", "stores"]
