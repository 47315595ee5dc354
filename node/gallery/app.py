"""The visitors' gallery: ``create_app(ctx)`` builds the aiohttp application the daemon serves.

Routes (work ids are 64 hex digits; anything else is a 404):

    /                     works grid          /works/{id}          one work
    /media/{id}           content (Range)     /media/{id}/prefix   chunks received so far
    /waveform/{id}        an audio work's waveform (PNG, drawn once)
    /preview/{id}         signed preview      /cards/{id}          grid card fragment
    /events               Server-Sent Events  /network  /about     pages
    /upload               artist upload       /static/{name}       CSS and JS
    /welcome, /generate_204, /hotspot-detect.html, ...             captive portal

The daemon adds ``/api/status`` and ``/metrics`` after this returns, and serves the app through
a server that admits connections by ``app[CLIENTS]`` (see ``node.gallery.clients``).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.gallery import live, media, pages, portal, upload
from node.gallery.cache import PageCache
from node.gallery.clients import CLIENTS, ClientTable
from node.gallery.context import GalleryContext
from node.gallery.live import LiveFeed
from node.gallery.render import Renderer
from node.gallery.security import add_security_headers, error_pages
from node.gallery.state import STATE, GalleryState
from node.gallery.waveform import Waveforms

WORK = "{work_id:[0-9a-f]{64}}"
MULTIPART_OVERHEAD = 64 * 1024


def create_app(ctx: GalleryContext) -> web.Application:
    """Build the gallery application for one node."""
    app = web.Application(
        middlewares=[error_pages], client_max_size=ctx.upload_limit_bytes + MULTIPART_OVERHEAD
    )
    static_files = media.load_static()
    renderer = Renderer({
        "node_name": ctx.node.name,
        "venue": ctx.node.venue,
        "asset_version": media.static_version(static_files),
    })
    cache = PageCache(clock=lambda: asyncio.get_running_loop().time())
    waveforms = Waveforms(ctx.store)
    feed = LiveFeed(ctx.events, ctx.store, on_change=cache.invalidate, on_complete=waveforms.render)
    clients = ClientTable(ctx.client_limits)
    app[STATE] = GalleryState(ctx=ctx, renderer=renderer, cache=cache, feed=feed, clients=clients,
                              waveforms=waveforms)
    app[CLIENTS] = clients  # the daemon's server counts connections in the same table
    app[media.STATIC] = static_files
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(feed.close)
    app.cleanup_ctx.append(feed.run)

    router = app.router
    router.add_get("/", pages.works_page)
    router.add_get(f"/works/{WORK}", pages.work_page)
    router.add_get(f"/cards/{WORK}", pages.card_fragment)
    router.add_get(f"/media/{WORK}", media.work_content)
    router.add_get(f"/media/{WORK}/prefix", media.work_prefix)
    router.add_get(f"/preview/{WORK}", media.work_preview)
    router.add_get(f"/waveform/{WORK}", media.work_waveform)
    router.add_get("/events", live.events_stream)
    router.add_get("/network", pages.network_page)
    router.add_get("/about", pages.about_page)
    router.add_get("/about/channel.svg", media.channel_qr)
    router.add_get("/upload", upload.upload_form)
    router.add_post("/upload", upload.upload_submit)
    router.add_get("/static/{name}", media.static_file)
    portal.add_routes(app)
    return app
