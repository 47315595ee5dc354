"""The node's HTTP side: the gallery app (when installed) plus /api/status and /metrics.

The gallery is built by ``node.gallery.app.create_app(ctx)``; the daemon adds its own two
routes afterwards. Without the gallery package a bare application serves just those two, so
the daemon and its tests never depend on the gallery.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from aiohttp import web

from node.gallery.context import GalleryContext

log = logging.getLogger("node.daemon.http")

DAEMON_FILE = "daemon.json"


def build_app(ctx: GalleryContext) -> web.Application:
    """The gallery application with /api/status and /metrics added."""
    app: web.Application | None = None
    try:
        gallery = importlib.import_module("node.gallery.app")
    except ModuleNotFoundError as exc:
        if exc.name != "node.gallery.app":
            raise
        log.warning("gallery not installed; serving /api/status and /metrics only")
    else:
        app = gallery.create_app(ctx)
    if app is None:
        app = web.Application()

    async def status_view(request: web.Request) -> web.Response:
        return web.json_response(ctx.status(), dumps=lambda obj: json.dumps(obj, default=str))

    async def metrics_view(request: web.Request) -> web.Response:
        return web.Response(text=ctx.metrics_text(), content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"}, charset="utf-8")

    existing = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    if "/api/status" not in existing:
        app.router.add_get("/api/status", status_view)
    if "/metrics" not in existing:
        app.router.add_get("/metrics", metrics_view)
    return app


HEADER_TIMEOUT_S = 20.0
"""A connection that has not sent one complete request head by then is closed (slow-loris:
aiohttp itself waits forever for the first request's headers). Bodies may still be slow."""
KEEPALIVE_TIMEOUT_S = 15.0


def _close_if_no_request(handler: Any) -> None:
    # ``_request_count`` counts request heads parsed on this connection (aiohttp's RequestHandler).
    transport = handler.transport
    if transport is not None and not transport.is_closing() and handler._request_count == 0:
        log.debug("closing a connection that sent no request head within %.0f s", HEADER_TIMEOUT_S)
        transport.close()


class GuardedTCPSite(web.TCPSite):
    """A TCP site whose connections must send a request head within :data:`HEADER_TIMEOUT_S`."""

    async def start(self) -> None:
        """Listen like ``TCPSite.start``, with every new connection put on the header deadline."""
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.Protocol:
            handler = server()
            loop.call_later(HEADER_TIMEOUT_S, _close_if_no_request, handler)
            return handler

        self._server = await loop.create_server(protocol, self._host, self._port, backlog=self._backlog,
                                                reuse_address=self._reuse_address, reuse_port=self._reuse_port)


async def start_http(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app``; returns the runner (for cleanup) and the port actually bound."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE_TIMEOUT_S)
    await runner.setup()
    site = GuardedTCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound = port
    server = site._server  # aiohttp keeps the asyncio server private; needed for port 0
    sockets = getattr(server, "sockets", None) or []
    if sockets:
        bound = sockets[0].getsockname()[1]
    return runner, bound


def write_daemon_file(data_dir: Path, info: dict[str, Any]) -> Path:
    """Record how to reach the running daemon (``mesh-art node status`` reads it)."""
    path = data_dir / DAEMON_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def read_daemon_file(data_dir: Path) -> dict[str, Any] | None:
    """The running daemon's record in ``data_dir``, or None."""
    try:
        info: dict[str, Any] = json.loads((data_dir / DAEMON_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info
