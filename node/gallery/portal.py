"""Captive-portal answers, so phones on the node's Wi-Fi open the gallery and stay connected.

With the node's DNS answering every name with its own address (see docs/deploy/captive-portal.md),
the operating systems' connectivity checks arrive here. Until a visitor taps "enter" on the
welcome page, their phone is told it is behind a portal (Android and Windows get a redirect,
Apple gets a page without "Success"), which makes it show the gallery. After that, each check
gets the exact answer that means "online", so the phone keeps using this Wi-Fi and the
portal sheet on iOS can be closed without disconnecting.
"""

from __future__ import annotations

from aiohttp import web

from node.gallery.pages import featured_work
from node.gallery.render import request_language
from node.gallery.state import STATE, GalleryState

MAX_CLIENTS = 4096
APPLE_SUCCESS = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
# path -> (status, body, content type) of the "online" answer
ONLINE_ANSWERS: dict[str, tuple[int, str, str]] = {
    "/generate_204": (204, "", ""),
    "/gen_204": (204, "", ""),
    "/hotspot-detect.html": (200, APPLE_SUCCESS, "text/html"),
    "/library/test/success.html": (200, APPLE_SUCCESS, "text/html"),
    "/connecttest.txt": (200, "Microsoft Connect Test", "text/plain"),
    "/ncsi.txt": (200, "Microsoft NCSI", "text/plain"),
    "/success.txt": (200, "success\n", "text/plain"),
    "/canonical.html": (200, '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>',
                        "text/html"),
}


def _client(request: web.Request) -> str:
    return request.remote or "?"


def _welcome_url(state: GalleryState) -> str:
    return state.ctx.gallery_url.rstrip("/") + "/welcome"


async def connectivity_check(request: web.Request) -> web.Response:
    """Answer an OS connectivity probe: "portal" before the visitor entered, "online" after."""
    state = request.app[STATE]
    no_store = {"Cache-Control": "no-store"}
    if _client(request) in state.portal_clients:
        status, body, mime = ONLINE_ANSWERS[request.path]
        if status == 204:
            return web.Response(status=204, headers=no_store)
        return web.Response(status=status, text=body, content_type=mime, headers=no_store)
    if request.path in ("/hotspot-detect.html", "/library/test/success.html"):
        # Apple's mini-browser shows whatever is returned when it is not "Success".
        return welcome_page(request)
    raise web.HTTPFound(_welcome_url(state), headers=no_store)


async def welcome(request: web.Request) -> web.Response:
    """``GET /welcome``: the splash page the portal opens."""
    return welcome_page(request)


def welcome_page(request: web.Request) -> web.Response:
    """The splash page: the exhibition's title and its newest work (or the one arriving)."""
    state = request.app[STATE]
    return state.renderer.page(request, "welcome.html", featured=featured_work(state, request_language(request)))


async def enter(request: web.Request) -> web.Response:
    """``POST /welcome``: remember this visitor as "online" and go to the works."""
    state = request.app[STATE]
    if len(state.portal_clients) >= MAX_CLIENTS:
        state.portal_clients.clear()
    state.portal_clients.add(_client(request))
    raise web.HTTPSeeOther(state.ctx.gallery_url)


def add_routes(app: web.Application) -> None:
    """Register the probe paths and the welcome page."""
    for path in ONLINE_ANSWERS:
        app.router.add_get(path, connectivity_check)
    app.router.add_get("/welcome", welcome)
    app.router.add_post("/welcome", enter)
