"""Headers on every response, 404s for unknown ids and traversal, error pages without traces."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from node.gallery.security import COMMON_HEADERS, PAGE_CSP


def _routes(works):
    image, partial = works.images[0].work_id.hex(), works.partial.work_id.hex()
    return [
        "/", "/?lang=nl", f"/works/{image}", f"/cards/{image}", f"/media/{image}", f"/media/{partial}/prefix",
        f"/preview/{image}", "/network", "/about", "/upload", "/welcome", "/static/gallery.css",
        "/static/gallery.js", "/generate_204", "/hotspot-detect.html", "/connecttest.txt", "/nowhere",
        f"/works/{'f' * 64}",
    ]


async def test_every_response_carries_the_security_headers(client, works):
    for path in _routes(works):
        response = await client.get(path, allow_redirects=False)
        for name, value in COMMON_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp or "sandbox" in csp, path
        assert "'unsafe-inline'" not in csp.split("style-src")[0], path  # never for scripts


def test_page_csp_allows_only_own_scripts():
    directives = dict(d.strip().split(" ", 1) for d in PAGE_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    "path",
    [
        "/works/" + "0" * 64,
        "/works/" + "A" * 64,  # ids are lower-case hex only
        "/works/1234",
        "/media/" + "0" * 64,
        "/media/../../etc/passwd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/static/../app.py",
        "/static/%2e%2e%2fapp.py",
        "/static/..%2f..%2fcontext.py",
        "/static/templates",
        "/preview/" + "9" * 64,
        "/cards/xyz",
    ],
)
async def test_unknown_ids_and_traversal_are_404(client, path):
    response = await client.get(path)
    body = await response.text()
    assert response.status == 404, path
    assert "Traceback" not in body and "/work" not in body.split("<main")[0].split("<title>")[0]
    assert "root:" not in body and "import " not in body


async def _raw_get(client, target: str) -> tuple[int, bytes]:
    """Send ``target`` byte for byte, with no client-side dot-segment normalisation."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {client.host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status = int(raw.split(b" ", 2)[1])
    return status, raw


@pytest.mark.parametrize(
    "target",
    ["/static/../app.py", "/static/../../node/gallery/app.py", "/media/../../etc/passwd",
     "/static/..%2fapp.py", "/static/%2e%2e/context.py", "/works/" + "0" * 64 + "/../../etc/passwd",
     "/static/.%2e/locales/en.json"],
)
async def test_raw_traversal_targets_never_reach_files(client, target):
    status, raw = await _raw_get(client, target)
    assert status == 404, target
    assert b"create_app" not in raw and b"root:" not in raw and b"Traceback" not in raw


async def test_404_page_is_translated_html(client):
    response = await client.get("/no-such-page", headers={"Accept-Language": "nl"})
    assert response.headers["Content-Type"].startswith("text/html")
    html = await response.text()
    assert "Niet gevonden" in html and '<html lang="nl">' in html


async def test_wrong_method_is_405_page(client):
    response = await client.post("/network")
    assert response.status == 405
    assert "Method not allowed" in await response.text()
    assert "GET" in response.headers["Allow"]


async def test_taken_down_work_is_gone(ctx, works, make_client):
    from node.artwork.takedown import Takedown

    image = works.images[2]
    ctx.store.apply_takedown(Takedown(image.work_id, b"\x00" * 32, "test", 0))
    async with make_client(ctx) as client:
        response = await client.get(f"/works/{image.work_id.hex()}?lang=en")
        assert response.status == 410 and "withdrew" in await response.text()
        assert (await client.get(f"/media/{image.work_id.hex()}")).status == 410


class ExplodingStore:
    """A store whose listing fails, to prove a crash becomes a plain 500 page."""

    def __init__(self, inner):
        self._inner = inner

    def summaries(self):
        raise RuntimeError("secret internal detail /srv/node/db.sqlite")

    def __getattr__(self, name):
        return getattr(self._inner, name)


async def test_crash_gives_500_page_without_trace(ctx, make_client):
    async with make_client(replace(ctx, store=ExplodingStore(ctx.store))) as client:
        response = await client.get("/?lang=en")
        body = await response.text()
    assert response.status == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body and "secret internal detail" not in body and "RuntimeError" not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_static_files_are_cached_and_revalidated(client):
    css = await client.get("/static/gallery.css")
    assert css.headers["Content-Type"].startswith("text/css")
    assert (await client.get("/static/gallery.css", headers={"If-None-Match": css.headers["ETag"]})).status == 304
    js = await client.get("/static/gallery.js")
    assert js.headers["Content-Type"].startswith("text/javascript")


async def test_pages_reference_no_external_resources(client, works):
    for path in ("/", f"/works/{works.images[0].work_id.hex()}", "/network", "/about", "/upload", "/welcome"):
        html = await (await client.get(path)).text()
        for attribute in ("src", "href"):
            for value in __import__("re").findall(rf'{attribute}="([^"]*)"', html):
                assert value.startswith(("/", "?", "#")) or value.startswith("https://creativecommons.org/"), value
    css = await (await client.get("/static/gallery.css")).text()
    assert "url(" not in css and "@import" not in css
