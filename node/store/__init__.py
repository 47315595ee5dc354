"""Content stores: the interface, an in-memory twin, and the crash-safe SQLite store."""

from node.store.base import (
    BadChunk,
    QuotaExceeded,
    Quotas,
    StoreError,
    TakenDown,
    UnknownWork,
    WorkStore,
    WorkSummary,
)
from node.store.memory import MemoryStore
from node.store.sqlite import SqliteStore

__all__ = [
    "BadChunk",
    "MemoryStore",
    "QuotaExceeded",
    "Quotas",
    "SqliteStore",
    "StoreError",
    "TakenDown",
    "UnknownWork",
    "WorkStore",
    "WorkSummary",
]
