"""Store fixtures: every contract test runs against MemoryStore and SqliteStore."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node.store import MemoryStore, Quotas, SqliteStore, WorkStore

StoreFactory = Callable[..., WorkStore]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory ``make_store(quotas=None, clock=time.time)``; SQLite stores get a fresh data directory each call."""
    opened: list[WorkStore] = []

    def factory(quotas: Quotas | None = None, clock: Callable[[], float] = time.time) -> WorkStore:
        store: WorkStore
        if request.param == "memory":
            store = MemoryStore(quotas, clock=clock)
        else:
            store = SqliteStore(tmp_path / f"data{len(opened)}", quotas, clock=clock)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()
