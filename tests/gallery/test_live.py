"""The /events stream and the page cache following store events."""

from __future__ import annotations

import asyncio
import json

from node.gallery.state import STATE
from node.protocol.events import ChunkReceived, FrameDropped, ManifestReceived, WorkCompleted, WorkTakenDown


async def _next_event(response) -> tuple[str, dict]:
    """Read SSE lines until one complete event (comments and retry hints skipped)."""
    name, data = None, None
    while True:
        line = (await asyncio.wait_for(response.content.readline(), 5)).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and name is not None:
            return name, data


async def _open_stream(client, ctx):
    response = await client.get("/events")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    await asyncio.wait_for(response.content.readline(), 5)  # "retry:" line: the stream is registered
    return response


async def test_chunk_progress_and_completion_are_streamed(client, ctx, works):
    stream = await _open_stream(client, ctx)
    wid = works.partial.work_id
    chunks = works.partial.chunks()
    index = works.partial_chunks
    ctx.store.put_chunk(wid, index, chunks[index])
    ctx.events.publish(FrameDropped("garbage", "lora"))  # not for browsers: skipped
    ctx.events.publish(ChunkReceived(wid, index, index + 1, len(chunks), "lora"))
    name, data = await _next_event(stream)
    assert name == "chunk"
    assert data == {"type": "chunk", "id": wid.hex(), "have": index + 1, "total": len(chunks), "prefix": index + 1}
    ctx.events.publish(WorkCompleted(wid, "lora"))
    assert await _next_event(stream) == ("complete", {"type": "complete", "id": wid.hex()})
    ctx.events.publish(ManifestReceived(b"\x07" * 32, "mqtt"))
    assert (await _next_event(stream))[0] == "work"
    ctx.events.publish(WorkTakenDown(b"\x07" * 32))
    assert (await _next_event(stream))[0] == "takedown"
    stream.close()


async def test_events_refresh_the_cached_works_page(client, ctx, works):
    wid = works.partial.work_id
    chunks = works.partial.chunks()
    first = await (await client.get("/?lang=en")).text()
    assert f'value="{works.partial_chunks}"' in first
    for index in range(works.partial_chunks, works.partial_chunks + 3):
        ctx.store.put_chunk(wid, index, chunks[index])
    # without an event the page may be served from cache; the event makes it fresh at once
    ctx.events.publish(ChunkReceived(wid, index, works.partial_chunks + 3, len(chunks), "lora"))
    for _ in range(50):
        await asyncio.sleep(0.01)
        page = await (await client.get("/?lang=en")).text()
        if f'value="{works.partial_chunks + 3}"' in page:
            break
    else:
        raise AssertionError("works page did not follow the store event")


async def test_streams_end_when_the_app_shuts_down(ctx, make_client):
    client = make_client(ctx)
    await client.start_server()
    stream = await _open_stream(client, ctx)
    feed = client.app[STATE].feed
    assert feed.stream_count == 1
    closing = asyncio.create_task(client.server.close())
    rest = await asyncio.wait_for(stream.content.read(), 10)  # the server ends the stream itself
    assert stream.content.at_eof() and b"event:" not in rest
    await asyncio.wait_for(closing, 10)
    assert feed.stream_count == 0
    await client.close()


async def test_card_fragment_follows_completion(client, ctx, works):
    wid = works.partial.work_id
    for index, piece in enumerate(works.partial.chunks()):
        ctx.store.put_chunk(wid, index, piece)
    html = await (await client.get(f"/cards/{wid.hex()}")).text()
    assert "<progress" not in html and f'src="/media/{wid.hex()}"' in html
