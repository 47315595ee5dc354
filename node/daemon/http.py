"""The node's HTTP side: the gallery app (when installed) plus /api/status and /metrics.

The gallery is built by ``node.gallery.app.create_app(ctx)``; the daemon adds its own two
routes afterwards.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from aiohttp import web

from node.gallery.app import create_app
from node.gallery.context import GalleryContext

log = logging.getLogger("node.daemon.http")

DAEMON_FILE = "daemon.json"


def build_app(ctx: GalleryContext) -> web.Application:
    """The gallery application with /api/status and /metrics added."""
    app = create_app(ctx)

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


KEEPALIVE_TIMEOUT_S = 15.0
"""aiohttp closes a connection that has sent no complete request head this long after it opened
(or after its last response), however slowly bytes trickle in: the slow-loris bound. The
default (75 s) would let a few hundred phones' worth of idle sockets pile up. A slow request
*body* (an upload over weak Wi-Fi) is not affected."""


async def start_http(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app``; returns the runner (for cleanup) and the port actually bound."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
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
