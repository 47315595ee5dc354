"""Media responses: manifest MIME types, Range requests, prefixes, previews, caching."""

from __future__ import annotations

import pytest

from node.gallery.media import parse_range
from node.gallery.security import MEDIA_CSP


async def test_content_is_served_with_the_manifest_mime(client, works):
    for bundle in works.complete():
        response = await client.get(f"/media/{bundle.work_id.hex()}")
        assert response.status == 200
        assert response.headers["Content-Type"] == bundle.signed.manifest.mime
        assert response.headers["Content-Security-Policy"] == MEDIA_CSP
        assert await response.read() == bundle.content


async def test_svg_is_sandboxed(client, works):
    response = await client.get(f"/media/{works.svg.work_id.hex()}")
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' covers it


async def test_audio_range_requests(client, works):
    url = f"/media/{works.audio.work_id.hex()}"
    content = works.audio.content
    first = await client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(content)}"
    assert first.headers["Content-Type"] == "audio/wav"
    assert await first.read() == content[:100]
    tail = await client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == content[-10:]
    open_ended = await client.get(url, headers={"Range": f"bytes={len(content) - 5}-"})
    assert await open_ended.read() == content[-5:]
    beyond = await client.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(content)}"
    whole = await client.get(url, headers={"Range": "bytes=0-"})
    assert whole.status == 200 and await whole.read() == content
    assert whole.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [("bytes=0-0", 10, (0, 1)), ("bytes=5-100", 10, (5, 10)), ("bytes=-3", 10, (7, 10)),
     ("bytes=-30", 10, (0, 10)), ("bytes=10-", 10, None), ("bytes=4-2", 10, None), ("bytes=-0", 10, None)],
)
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header", ["items=0-1", "bytes=0-1,4-5", "bytes=a-b"])
def test_parse_range_rejects_what_it_does_not_support(header):
    with pytest.raises(ValueError):
        parse_range(header, 10)


async def test_unsupported_range_sends_everything(client, works):
    response = await client.get(f"/media/{works.audio.work_id.hex()}", headers={"Range": "bytes=0-1,5-6"})
    assert response.status == 200 and await response.read() == works.audio.content


async def test_etag_revalidation(client, works):
    url = f"/media/{works.images[0].work_id.hex()}"
    first = await client.get(url)
    assert "immutable" in first.headers["Cache-Control"]
    again = await client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


async def test_partial_work_has_no_content_but_a_prefix(client, works):
    wid = works.partial.work_id.hex()
    assert (await client.get(f"/media/{wid}")).status == 404
    prefix = await client.get(f"/media/{wid}/prefix")
    assert prefix.status == 200 and prefix.headers["Cache-Control"] == "no-store"
    assert await prefix.read() == b"".join(works.partial.chunks()[: works.partial_chunks])
    assert prefix.headers["Content-Type"] == "image/jpeg"


async def test_prefix_stops_at_the_first_gap(ctx, works, make_client):
    wid = works.partial.work_id
    chunks = works.partial.chunks()
    ctx.store.put_chunk(wid, works.partial_chunks + 1, chunks[works.partial_chunks + 1])  # leaves a gap
    async with make_client(ctx) as client:
        data = await (await client.get(f"/media/{wid.hex()}/prefix")).read()
    assert data == b"".join(chunks[: works.partial_chunks])


async def test_preview_is_served_with_its_mime(client, works):
    image = works.images[0]
    response = await client.get(f"/preview/{image.work_id.hex()}")
    assert response.headers["Content-Type"] == "image/webp"
    assert await response.read() == image.signed.manifest.preview
    assert (await client.get(f"/preview/{works.poem.work_id.hex()}")).status == 404


async def test_non_inline_types_are_downloads(ctx, make_client):
    from tests.gallery.artworks import work_bundle

    html_work = work_bundle(b"<script>alert(1)</script>", "text/html", title={"en": "Page"})
    odd_mime = work_bundle(b"data", "text/plain\r\nSet-Cookie: a=b", title={"en": "Odd"})
    ctx.store.ingest_bundle(html_work)
    ctx.store.ingest_bundle(odd_mime)
    async with make_client(ctx) as client:
        html = await client.get(f"/media/{html_work.work_id.hex()}")
        assert html.headers["Content-Type"] == "text/html"
        assert html.headers["Content-Disposition"] == "attachment"
        assert "sandbox" in html.headers["Content-Security-Policy"]
        odd = await client.get(f"/media/{odd_mime.work_id.hex()}")
        assert odd.status == 200 and odd.headers["Content-Type"] == "application/octet-stream"
        assert "Set-Cookie" not in odd.headers
