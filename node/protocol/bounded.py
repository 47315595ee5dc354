"""The one bounded-memory container of the engine: an insertion-ordered map with a cap.

Everything the engine keeps about neighbours and works it heard of is keyed by what a
neighbour chose to send, so every such table is capped. :class:`LruMap` caps by item count
and, optionally, by a total weight (bytes); it evicts the least recently used entries first.
Iteration is oldest first, never over a set, so one seed gives one trace.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruMap(Generic[K, V]):
    """At most ``max_items`` entries (and ``max_weight`` in total by ``weigh``), LRU-evicted."""

    def __init__(self, max_items: int, *, weigh: Callable[[V], int] | None = None,
                 max_weight: int | None = None) -> None:
        if max_items < 1 or (max_weight is not None and (weigh is None or max_weight < 1)):
            raise ValueError("an LruMap needs max_items >= 1 and, with a weight cap, a weigh function")
        self.max_items = max_items
        self.max_weight = max_weight
        self._weigh = weigh
        self._items: OrderedDict[K, V] = OrderedDict()
        self._weight = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))

    @property
    def weight(self) -> int:
        """The total weight held (0 without a weigh function)."""
        return self._weight

    def get(self, key: K) -> V | None:
        """The value of ``key`` (without refreshing it), or None."""
        return self._items.get(key)

    def touch(self, key: K) -> V | None:
        """The value of ``key``, marked as most recently used; None when absent."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> bool:
        """Store ``value`` as the most recent entry, evicting the oldest to make room.

        Returns False (and stores nothing) for a value heavier than the whole weight cap.
        """
        if self.max_weight is not None and self._weigh is not None and self._weigh(value) > self.max_weight:
            return False
        self.pop(key)
        self._items[key] = value
        self._weight += self._weigh(value) if self._weigh is not None else 0
        while len(self._items) > self.max_items or (
                self.max_weight is not None and self._weight > self.max_weight):
            self.pop(next(iter(self._items)))
        return True

    def pop(self, key: K) -> V | None:
        """Remove ``key``; its value, or None."""
        value = self._items.pop(key, None)
        if value is not None and self._weigh is not None:
            self._weight -= self._weigh(value)
        return value

    def items(self) -> list[tuple[K, V]]:
        """(key, value) pairs, oldest first."""
        return list(self._items.items())

    def values(self) -> list[V]:
        """Values, oldest first."""
        return list(self._items.values())

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        """Remove every entry whose key matches ``predicate``."""
        for key in [k for k in self._items if predicate(k)]:
            self.pop(key)
