"""Virtual time: integer microsecond ticks and a (time, sequence) event queue.

Events at the same tick run in the order they were scheduled (a strictly increasing sequence
number breaks ties), so a run never depends on hash order or on comparing callbacks.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

TICKS_PER_SECOND = 1_000_000


def to_ticks(seconds: float) -> int:
    """Seconds as whole ticks (rounded to the nearest microsecond)."""
    return round(seconds * TICKS_PER_SECOND)


def to_seconds(ticks: int) -> float:
    """Ticks as float seconds, the unit engines see."""
    return ticks / TICKS_PER_SECOND


Action = Callable[[Any], None]


class EventQueue:
    """A discrete-event scheduler on integer ticks."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Action, Any]] = []
        self._seq = 0
        self.now = 0
        self.processed = 0

    def schedule(self, tick: int, action: Action, arg: Any = None) -> None:
        """Run ``action(arg)`` at ``tick`` (never earlier than the current time)."""
        if tick < self.now:
            tick = self.now
        self._seq += 1
        heapq.heappush(self._heap, (tick, self._seq, action, arg))

    def __len__(self) -> int:
        return len(self._heap)

    def peek_time(self) -> int | None:
        """Tick of the next event, or None when the queue is empty."""
        return self._heap[0][0] if self._heap else None

    def run_until(self, end_tick: int, stop: Callable[[], bool] | None = None) -> None:
        """Process events up to and including ``end_tick``, or until ``stop()`` says so."""
        heap = self._heap
        pop = heapq.heappop
        while heap and heap[0][0] <= end_tick:
            tick, _, action, arg = pop(heap)
            self.now = tick
            action(arg)
            self.processed += 1
            if stop is not None and stop():
                return
        self.now = max(self.now, end_tick) if not heap or heap[0][0] > end_tick else self.now
