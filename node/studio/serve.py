"""Running the studio: loopback only unless explicitly allowed, then open the browser."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import webbrowser
from collections.abc import Callable

from aiohttp import web

from node.studio.app import create_app
from node.studio.settings import StudioSettings

log = logging.getLogger(__name__)


class BindRefused(ValueError):
    """The studio was asked to listen where other machines could reach it, without the flag."""


def check_bind_host(host: str, allow_remote: bool) -> str:
    """``host`` if the studio may listen there; loopback addresses always, others only when allowed."""
    name = host.strip().strip("[]")
    if name == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        raise BindRefused(f"{host!r} is not an IP address; give 127.0.0.1 (others need --allow-remote)") from None
    if not address.is_loopback and not allow_remote:
        raise BindRefused(f"the studio listens on 127.0.0.1 only; {host} would let other machines reach your keys' "
                          "pages (use --allow-remote if you really mean it)")
    return str(address)


async def start_studio(settings: StudioSettings, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start serving; returns the runner and the studio's URL."""
    bind = check_bind_host(host, settings.allow_remote)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, bind, port)
    await site.start()
    actual = int(runner.addresses[0][1]) if runner.addresses else port
    shown = f"[{bind}]" if ":" in bind else bind
    return runner, f"http://{shown}:{actual}/"


async def run_studio(settings: StudioSettings, host: str, port: int, open_browser: bool,
                     announce: Callable[[str], None] = print) -> None:
    """Serve until cancelled (Ctrl-C)."""
    runner, url = await start_studio(settings, host, port)
    announce(f"mesh-art studio: {url} (folder {settings.home}); Ctrl-C stops it")
    if open_browser:
        await asyncio.to_thread(webbrowser.open, url)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
