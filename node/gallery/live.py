"""Live arrival: store events from the daemon's EventHub, pushed to browsers as Server-Sent Events.

One background task per app subscribes to the hub, turns each event into a small JSON message
once, invalidates the page cache, and hands the message to every open ``/events`` stream
through its own bounded queue (a stalled phone loses its oldest messages, nobody else waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from node.eventhub import EventHub
from node.gallery.clients import client_of
from node.gallery.present import prefix_length
from node.protocol.events import ChunkReceived, Event, ManifestReceived, WorkCompleted, WorkTakenDown
from node.store.base import WorkStore

log = logging.getLogger(__name__)

STREAM_QUEUE = 64
KEEPALIVE_S = 15.0

Message = dict[str, Any]


class LiveFeed:
    """Fan-out of store events to SSE streams, and the page-cache invalidation hook."""

    def __init__(self, events: EventHub, store: WorkStore, on_change: Callable[[], None],
                 on_complete: Callable[[bytes], object] = lambda work_id: None) -> None:
        self._events = events
        self._store = store
        self._on_change = on_change
        self._on_complete = on_complete  # e.g. draw an audio work's waveform, once, at ingest
        self._streams: set[asyncio.Queue[Message | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.closing = False

    @property
    def stream_count(self) -> int:
        """Open ``/events`` streams."""
        return len(self._streams)

    def message_for(self, event: Event) -> Message | None:
        """The browser-facing message for a store event, or None for events pages ignore."""
        if isinstance(event, ChunkReceived):
            have = self._store.have_chunks(event.work_id)
            return {"type": "chunk", "id": event.work_id.hex(), "have": len(have), "total": event.total,
                    "prefix": prefix_length(have)}
        if isinstance(event, ManifestReceived):
            return {"type": "work", "id": event.work_id.hex()}
        if isinstance(event, WorkCompleted):
            self._on_complete(event.work_id)
            return {"type": "complete", "id": event.work_id.hex()}
        if isinstance(event, WorkTakenDown):
            return {"type": "takedown", "id": event.work_id.hex()}
        return None

    def broadcast(self, message: Message | None) -> None:
        """Queue ``message`` (None ends the streams) on every open stream."""
        for queue in self._streams:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def _pump(self) -> None:
        async for event in self._events.subscribe():
            try:
                message = self.message_for(event)
            except Exception:  # a store hiccup must not end live updates for everyone
                log.exception("could not describe event %r", event)
                continue
            if message is not None:
                self._on_change()
                self.broadcast(message)

    async def close(self, app: web.Application) -> None:
        """``on_shutdown`` hook: end every open stream so shutdown need not wait for them."""
        self.closing = True
        self.broadcast(None)

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        """``cleanup_ctx`` entry: pump events while the app runs, then end every stream."""
        self._task = asyncio.create_task(self._pump(), name="gallery-live-feed")
        yield
        self.broadcast(None)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @contextlib.contextmanager
    def stream(self) -> Any:
        """Register one SSE stream's queue for the duration of the ``with`` block."""
        queue: asyncio.Queue[Message | None] = asyncio.Queue(STREAM_QUEUE)
        self._streams.add(queue)
        try:
            yield queue
        finally:
            self._streams.discard(queue)


def _sse(message: Message) -> bytes:
    return f"event: {message['type']}\ndata: {json.dumps(message, separators=(',', ':'))}\n\n".encode()


async def events_stream(request: web.Request) -> web.StreamResponse:
    """``GET /events``: chunk progress, new, completed and withdrawn works as SSE."""
    from node.gallery.state import STATE

    state = request.app[STATE]
    feed = state.feed
    client = client_of(request.remote)
    # A per-client cap: one phone opening hundreds of streams must not turn live updates off
    # for every other visitor (the total cap then stays out of its reach).
    if feed.closing or not state.clients.streams.acquire(client):
        raise web.HTTPServiceUnavailable(headers={"Retry-After": "30"})
    try:
        return await _stream(request, feed)
    finally:
        state.clients.streams.release(client)


async def _stream(request: web.Request, feed: LiveFeed) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    with feed.stream() as queue, contextlib.suppress(ConnectionResetError):
        await response.prepare(request)
        await response.write(b"retry: 3000\n: live\n\n")
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if message is None:
                break
            await response.write(_sse(message))
    return response
