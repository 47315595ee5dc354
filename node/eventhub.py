"""Fan-out of engine events to asyncio subscribers (gallery SSE streams, status).

The daemon publishes every event it drains from the engine; each subscriber gets its own
bounded queue, so one slow phone cannot hold up the node (its oldest events are dropped).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from node.protocol.events import Event


class EventHub:
    """Broadcast events to any number of async subscribers."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Event | None]] = set()

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber without blocking."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[Event]:
        """Yield events as they are published, until :meth:`close`."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @property
    def subscriber_count(self) -> int:
        """Number of live subscriptions."""
        return len(self._subscribers)
