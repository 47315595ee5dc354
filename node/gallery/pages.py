"""The HTML pages: works grid, a work, the network, about, and the card fragment for live updates."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from aiohttp import web

from node.artwork.errors import VerificationError
from node.artwork.manifest import verify_manifest
from node.gallery.context import Arrival, VenueNames
from node.gallery.i18n import LANGUAGES, Translator
from node.gallery.media import find_work
from node.gallery.netmap import network_map, page_count
from node.gallery.present import (
    WorkView,
    decode_text,
    iso_datetime,
    jsonld,
    jsonld_script_text,
    opening_lines,
    work_kind,
    work_view,
)
from node.gallery.render import request_language
from node.gallery.state import STATE, GalleryState
from node.store.base import WorkSummary

log = logging.getLogger(__name__)

PAGE_SIZE = 48


def _view(state: GalleryState, summary: WorkSummary, lang: str, venues: VenueNames,
          have: set[int] | None = None) -> WorkView:
    """One work's view, with its text tile's opening lines or its waveform when it has them."""
    m = summary.signed.manifest
    opening, seconds = "", None
    kind = work_kind(m.mime)
    if summary.complete and kind == "text":
        opening = opening_lines(decode_text(state.ctx.store.content(summary.work_id) or b"", m.mime))
    elif summary.complete and kind == "audio":
        drawn = state.waveforms.render(summary.work_id)
        seconds = drawn.seconds if drawn is not None else None
    return work_view(summary, lang, have, venues=venues, opening=opening, waveform_seconds=seconds)


def _sorted_views(state: GalleryState, lang: str) -> list[WorkView]:
    """Every work, newest first by the store's wall-clock arrival stamp."""
    summaries = sorted(state.ctx.store.summaries(), key=lambda s: (-s.received_at, s.work_id))
    venues = state.ctx.venues()
    return [_view(state, s, lang, venues) for s in summaries]


def featured_work(state: GalleryState, lang: str) -> WorkView | None:
    """The work the welcome page shows: the newest one, which may still be arriving."""
    summaries = state.ctx.store.summaries()
    if not summaries:
        return None
    newest = min(summaries, key=lambda s: (-s.received_at, s.work_id))
    return _view(state, newest, lang, state.ctx.venues())


def render_works(state: GalleryState, lang: str, page: int) -> str:
    """The works grid, page ``page`` (1-based); 404 past the last page."""
    views = _sorted_views(state, lang)
    pages = max(1, math.ceil(len(views) / PAGE_SIZE))
    if page > pages:
        raise web.HTTPNotFound()
    shown = views[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    arriving = sum(1 for v in views if not v.complete)
    other = next(code for code in LANGUAGES if code != lang)
    switch = f"/?lang={other}" if page == 1 else f"/?page={page}&lang={other}"
    return state.renderer.render(
        "works.html", lang, nav="works", works=shown, total=len(views), arriving=arriving,
        page=page, pages=pages, switch_url=switch,
    )


def _page_number(request: web.Request) -> int:
    """``?page=N`` (1-based); anything else is a 404."""
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        raise web.HTTPNotFound() from None
    if page < 1:
        raise web.HTTPNotFound()
    return page


async def works_page(request: web.Request) -> web.Response:
    """``GET /``: the works held on this node, newest first (cached per store state)."""
    state = request.app[STATE]
    lang = request_language(request)
    page = _page_number(request)
    entry = state.cache.get_or_render(("works", lang, page), lambda: render_works(state, lang, page))
    gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
    response = state.renderer.respond(request, entry.gzipped if gzip_ok else entry.body)
    if gzip_ok:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Language, Cookie, Accept-Encoding"
    return response


def _summary(state: GalleryState, work_hex: str) -> tuple[WorkSummary, set[int]]:
    signed = find_work(state, work_hex)
    summary = state.ctx.store.summary(signed.work_id)
    if summary is None:  # taken down between the two reads
        raise web.HTTPNotFound()
    return summary, state.ctx.store.have_chunks(signed.work_id)


def _verified_here(state: GalleryState, summary: WorkSummary) -> bool:
    """Re-check the signature chain against this node's trust anchors (once per work)."""
    known = state.verified.get(summary.work_id)
    if known is None:
        try:
            verify_manifest(summary.signed.raw, state.ctx.trust)
            known = True
        except VerificationError as exc:
            log.warning("stored work %s fails verification: %s", summary.work_id.hex()[:16], exc)
            known = False
        state.verified[summary.work_id] = known
    return known


def _arrival_text(t: Translator, received_at: float, arrival: Arrival | None) -> str:
    """When the work was stored here (the store's stamp), and how it came in this run."""
    parts: list[str] = []
    if received_at > 0:
        parts.append(t("prov_arrival_received", when=iso_datetime(received_at)))
    if arrival is not None and arrival.uploaded:
        parts.append(t("arrival_uploaded"))
    elif arrival is not None and arrival.link:
        parts.append(t("arrival_link", link=arrival.link))
    return ", ".join(parts)


async def work_page(request: web.Request) -> web.Response:
    """``GET /works/{id}``: one work with its metadata, licence and provenance."""
    state = request.app[STATE]
    lang = request_language(request)
    summary, have = _summary(state, request.match_info["work_id"])
    view = _view(state, summary, lang, state.ctx.venues(), have)
    m = summary.signed.manifest
    text = ""
    if view.complete and view.kind == "text":
        text = decode_text(state.ctx.store.content(summary.work_id) or b"", m.mime)
    base_url = f"{request.scheme}://{request.host}"
    t = state.renderer.translators[lang]
    return state.renderer.page(
        request, "work.html", nav="works", w=view, text_content=text,
        titles=sorted(m.title.items()), verified=_verified_here(state, summary),
        arrival=_arrival_text(t, summary.received_at, state.ctx.arrival(summary.work_id)),
        jsonld_text=jsonld_script_text(jsonld(summary.signed, base_url, view.complete, view.origin)),
        uploaded=request.query.get("uploaded") == "1",
    )


async def card_fragment(request: web.Request) -> web.Response:
    """``GET /cards/{id}``: one grid card, for the live works page to insert."""
    state = request.app[STATE]
    lang = request_language(request)
    summary, _ = _summary(state, request.match_info["work_id"])
    html = state.renderer.render("card.html", lang, work=_view(state, summary, lang, state.ctx.venues()))
    return state.renderer.respond(request, html)


def _ago(t: Translator, now: float) -> Callable[[float | None], str]:
    def ago(when: float | None) -> str:
        if when is None:
            return t("unknown")
        seconds = max(0, int(now - when))
        if seconds < 90:
            return t("ago_seconds", n=seconds)
        if seconds < 90 * 60:
            return t("ago_minutes", n=seconds // 60)
        return t("ago_hours", n=seconds // 3600)
    return ago


async def network_page(request: web.Request) -> web.Response:
    """``GET /network?page=N``: nodes heard, link quality and airtime, on an inline SVG map."""
    state = request.app[STATE]
    lang = request_language(request)
    page = _page_number(request)
    heard = state.ctx.peers()
    if page > page_count(len(heard)):
        raise web.HTTPNotFound()
    net = network_map(heard, state.ctx.node.position, page, venues=state.ctx.venues())
    return state.renderer.page(
        request, "network.html", nav="network", net=net, ago=_ago(state.renderer.translators[lang], time.time())
    )


async def about_page(request: web.Request) -> web.Response:
    """``GET /about``: the exhibition, the mesh, and how to join the channel."""
    state = request.app[STATE]
    return state.renderer.page(request, "about.html", nav="about", has_qr=bool(state.ctx.channel_qr_svg))
