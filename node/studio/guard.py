"""Who may use the studio: loopback host names only, one session cookie, a CSRF token on every form.

* Requests must name a loopback host (``127.0.0.1``, ``localhost``, ``[::1]``) unless the studio
  was started with ``--allow-remote``: a web page elsewhere that rebinds its own name to
  127.0.0.1 gets nothing.
* Every browser gets a random session cookie (HttpOnly, SameSite=Strict), and every form
  carries the session's CSRF token; a POST without the matching token, from another origin, or
  without a session is refused with 403 before its handler runs.
* Pages are never cached (``Cache-Control: no-store``); the gallery's security headers and
  strict CSP are added by :func:`node.gallery.security.add_security_headers`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from node.studio.session import SESSION_COOKIE, Session
from node.studio.state import SESSION, STUDIO

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def host_name(host_header: str) -> str:
    """The host name of a Host header, without the port."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def is_loopback_host(host_header: str) -> bool:
    """True when the Host header names this machine's loopback interface."""
    name = host_name(host_header).lower()
    return name in LOOPBACK_NAMES or name.startswith("127.")


def _cross_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host):
        return True
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


async def _token_of(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return ""
    form = await request.post()  # cached by aiohttp: the handler reads the same form
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def _error_page(request: web.Request, session: Session, status: int, key: str) -> web.Response:
    return request.app[STUDIO].renderer.page(request, session, "error.html", status=status,
                                             status_code=status, message_key=key)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Check host, session and CSRF token; attach the session; turn errors into pages."""
    state = request.app[STUDIO]
    if not state.settings.allow_remote and not is_loopback_host(request.host):
        return web.Response(status=421, text="mesh-art studio answers only on 127.0.0.1\n")
    session = state.sessions.get(request.cookies.get(SESSION_COOKIE))
    fresh = session is None
    if session is None:
        session = state.sessions.new()
    request[SESSION] = session
    try:
        if request.method not in SAFE_METHODS:
            if fresh or _cross_origin(request):
                response: web.StreamResponse = _error_page(request, session, 403, "error_csrf")
            elif not hmac.compare_digest((await _token_of(request)).encode(), session.csrf.encode()):
                response = _error_page(request, session, 403, "error_csrf")
            else:
                response = await handler(request)
        else:
            response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error_page(request, session, exc.status, "error_request" if exc.status < 500 else "error_server")
    except Exception:
        log.exception("studio request %s %s failed", request.method, request.path)
        response = _error_page(request, session, 500, "error_server")
    if fresh:
        response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="Strict", path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
