"""Security headers on every response, and error pages that never show a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from node.gallery.state import STATE

log = logging.getLogger(__name__)

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Media (above all SVG) is shown only as <img>/<audio>, but someone may open its URL directly:
# this policy keeps any script in it from running and any resource from loading.
MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: strict defaults unless a handler set its own CSP."""
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", PAGE_CSP)


def _error_response(request: web.Request, status: int, reason: str) -> web.Response:
    state = request.app[STATE]
    return state.renderer.page(request, "error.html", status=status, status_code=status, reason=reason)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn HTTP errors into translated pages and any crash into a plain 500 page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        page = _error_response(request, exc.status, exc.reason)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                page.headers[name] = exc.headers[name]
        return page
    except Exception:
        log.exception("gallery request %s %s failed", request.method, request.path)
        return _error_response(request, 500, "Internal Server Error")
