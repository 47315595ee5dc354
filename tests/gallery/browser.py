"""Real headless Chromium (Debian's /usr/bin/chromium via Playwright) for the end-to-end tests.

Never downloads a browser. With ``CI=true`` a missing chromium or Playwright fails the run;
elsewhere the browser tests are skipped.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from node.gallery.app import create_app
from node.gallery.context import GalleryContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def require_chromium() -> None:
    """Skip (or, under CI, fail) when the browser or Playwright is not installed."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is not installed (scripts/setup.sh installs it)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(ctx: GalleryContext) -> AsyncIterator[str]:
    """Run the gallery on 127.0.0.1 in this process; yields its base URL."""
    runner = web.AppRunner(create_app(ctx), shutdown_timeout=5)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class RequestLog:
    """Every URL a browser context asked for, and those stopped for leaving the node."""

    base: str
    seen: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    async def handle(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        self.seen.append(url)
        if url.startswith(self.base + "/") or url == self.base:
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort()

    def assert_local(self) -> None:
        assert self.seen, "the browser made no requests at all"
        assert not self.blocked, f"requests left 127.0.0.1: {self.blocked}"
        assert all(url.startswith("http://127.0.0.1:") for url in self.seen)
