"""The gallery's per-application state, reachable from handlers as ``request.app[STATE]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from node.gallery.clients import ClientTable
from node.gallery.context import GalleryContext

if TYPE_CHECKING:
    from node.gallery.cache import PageCache
    from node.gallery.live import LiveFeed
    from node.gallery.render import Renderer
    from node.gallery.waveform import Waveforms


@dataclass
class GalleryState:
    """Everything handlers share: the daemon's context, rendering, caching, live feed, client counts."""

    ctx: GalleryContext
    renderer: Renderer
    cache: PageCache
    feed: LiveFeed
    clients: ClientTable
    waveforms: Waveforms
    verified: dict[bytes, bool] = field(default_factory=dict)  # work id -> chain re-verified here
    portal_clients: set[str] = field(default_factory=set)  # addresses that entered via the portal


STATE = web.AppKey("gallery_state", GalleryState)
