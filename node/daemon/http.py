"""The node's HTTP side: the gallery app (when installed) plus /api/status and /metrics.

The gallery is built by ``node.gallery.app.create_app(ctx)``; the daemon adds its own two
routes afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from node.daemon.status import StatusDocument
from node.files import write_new_file
from node.gallery.app import create_app
from node.gallery.clients import CLIENTS, ClientLimits, ClientTable, client_of
from node.gallery.context import GalleryContext

log = logging.getLogger("node.daemon.http")

DAEMON_FILE = "daemon.json"


LOOPBACK = ("127.0.0.1", "::1")


def build_app(ctx: GalleryContext, status: Callable[[], StatusDocument], metrics_text: Callable[[], str],
              local_status: Callable[[], StatusDocument] | None = None) -> web.Application:
    """The gallery application with /api/status (``status``: the public document), /metrics and
    (loopback only) /api/status/local added."""
    app = create_app(ctx)

    async def status_view(request: web.Request) -> web.Response:
        return web.json_response(status(), dumps=lambda obj: json.dumps(obj, default=str))

    async def metrics_view(request: web.Request) -> web.Response:
        return web.Response(text=metrics_text(), content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"}, charset="utf-8")

    async def local_status_view(request: web.Request) -> web.Response:
        # The operator's document names paths, host and process: never for the hotspot's visitors.
        if local_status is None or request.remote not in LOOPBACK:
            raise web.HTTPForbidden(text="the local status is only served to the node itself\n")
        return web.json_response(local_status(), dumps=lambda obj: json.dumps(obj, default=str))

    existing = {route.resource.canonical for route in app.router.routes() if route.resource is not None}
    if "/api/status" not in existing:
        app.router.add_get("/api/status", status_view)
    if "/metrics" not in existing:
        app.router.add_get("/metrics", metrics_view)
    if "/api/status/local" not in existing:
        app.router.add_get("/api/status/local", local_status_view)
    return app


KEEPALIVE_TIMEOUT_S = 15.0
"""aiohttp closes a connection that has sent no complete request head this long after it opened
(or after its last response), however slowly bytes trickle in: the slow-loris bound. The
default (75 s) would let a few hundred phones' worth of idle sockets pile up. A slow request
*body* has its own deadline (``ClientLimits.upload_deadline_s``, in the upload handler)."""

LINGERING_S = 2.0
"""After answering a request whose body was not read (a refused upload), aiohttp reads and
drops the rest this long before it closes, so the client sees the answer rather than a reset.
Its default (10 s) would hold a trickling client's connection five times longer."""

FD_HEADROOM = 256
"""File descriptors kept free of gallery connections: the store (SQLite and its WAL), the radio,
MQTT, the journal and the listening sockets."""

BUSY_REPLY = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Length: 0\r\n"
              b"Connection: close\r\n\r\n")


class GatedConnection(asyncio.Protocol):
    """One accepted TCP connection: handed to aiohttp when its client has a connection place
    left in the :class:`ClientTable`, otherwise answered 503 and closed before any parsing."""

    def __init__(self, clients: ClientTable, make_handler: Callable[[], asyncio.Protocol]) -> None:
        self._clients = clients
        self._make_handler = make_handler
        self._client = ""
        self._inner: asyncio.Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection or turn it away."""
        peer = transport.get_extra_info("peername")
        client = client_of(peer[0] if isinstance(peer, tuple) and peer else None)
        if not self._clients.connections.acquire(client):
            log.warning("connection refused client=%s held=%d open=%d", client,
                        self._clients.connections.held(client), len(self._clients.connections))
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(BUSY_REPLY)
            transport.close()
            return
        self._client = client
        self._inner = self._make_handler()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        """Give the client's place back and tell aiohttp."""
        if self._inner is not None:
            self._clients.connections.release(self._client)
            self._inner.connection_lost(exc)
            self._inner = None

    def data_received(self, data: bytes) -> None:
        """Bytes for aiohttp (an unadmitted connection's are dropped)."""
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        """The client finished sending."""
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        """Flow control, for aiohttp."""
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Flow control, for aiohttp."""
        if self._inner is not None:
            self._inner.resume_writing()


@dataclass
class HttpServer:
    """The listening gallery: aiohttp's runner and the asyncio server in front of it."""

    runner: web.AppRunner
    server: asyncio.Server
    port: int
    clients: ClientTable

    async def cleanup(self) -> None:
        """Stop listening, close every connection, run the app's cleanup."""
        self.server.close()
        await self.runner.cleanup()


def connection_cap(clients: ClientTable) -> int:
    """Fit the total connection cap under this process's file-descriptor limit; the cap."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and clients.connections.total > soft - FD_HEADROOM:
        log.warning("file-descriptor limit %d leaves room for %d gallery connections, not %d; raise "
                    "LimitNOFILE (docs/deploy/mesh-art-node.service)", soft, soft - FD_HEADROOM,
                    clients.connections.total)
        clients.cap_connections(soft - FD_HEADROOM)
    return clients.connections.total


async def start_http(app: web.Application, host: str, port: int) -> HttpServer:
    """Serve ``app`` behind the per-client connection gate (port 0 picks a free port)."""
    clients = app.get(CLIENTS) or ClientTable(ClientLimits())
    connection_cap(clients)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=KEEPALIVE_TIMEOUT_S,
                           lingering_time=LINGERING_S)
    await runner.setup()
    make_handler = runner.server
    assert make_handler is not None  # set by setup()
    try:
        server = await asyncio.get_running_loop().create_server(
            lambda: GatedConnection(clients, make_handler), host, port)
    except OSError:
        await runner.cleanup()
        raise
    return HttpServer(runner, server, server.sockets[0].getsockname()[1] if server.sockets else port, clients)


def write_daemon_file(data_dir: Path, info: dict[str, Any]) -> Path:
    """Record how to reach the running daemon (``mesh-art node status`` reads it)."""
    path = data_dir / DAEMON_FILE
    write_new_file(path, (json.dumps(info, indent=2) + "\n").encode(), mode=0o644, replace=True)
    return path


def read_daemon_file(data_dir: Path) -> dict[str, Any] | None:
    """The running daemon's record in ``data_dir``, or None."""
    try:
        info: dict[str, Any] = json.loads((data_dir / DAEMON_FILE).read_text())
    except (OSError, ValueError):
        return None
    return info
