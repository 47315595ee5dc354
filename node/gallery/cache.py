"""A small cache of rendered pages, valid while the store is unchanged.

The live feed bumps :attr:`PageCache.generation` on every store event; entries of an older
generation are ignored. A short lifetime also bounds staleness when the store changes without
an event (a work filled in by a test or a tool), so a busy works page renders about once a
second instead of once per visitor.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_ENTRIES = 256


@dataclass(frozen=True)
class CachedPage:
    """One rendered page, plain and gzip-compressed."""

    body: bytes
    gzipped: bytes
    generation: int
    expires: float


class PageCache:
    """Rendered pages keyed by (page, language, ...) and the store generation."""

    def __init__(self, clock: Callable[[], float], ttl: float = 1.0) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[Hashable, CachedPage] = {}
        self.generation = 0

    def invalidate(self) -> None:
        """Forget every page (the store changed)."""
        self.generation += 1
        self._entries.clear()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> CachedPage:
        """The cached page for ``key``, rendering it when missing, old or expired."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry.generation == self.generation and entry.expires > now:
            return entry
        body = render().encode()
        entry = CachedPage(body, gzip.compress(body, compresslevel=6), self.generation, now + self._ttl)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = entry
        return entry
