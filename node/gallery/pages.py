"""The HTML pages: works grid, a work, the network, about, and the card fragment for live updates."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from node.artwork.errors import VerificationError
from node.artwork.manifest import verify_manifest
from node.gallery.i18n import LANGUAGES, Translator
from node.gallery.media import find_work
from node.gallery.netmap import network_map, page_count
from node.gallery.present import WorkView, iso_datetime, jsonld, jsonld_script_text, work_view
from node.gallery.render import request_language
from node.gallery.state import STATE, GalleryState
from node.store.base import WorkSummary

log = logging.getLogger(__name__)

PAGE_SIZE = 48


def _sorted_views(state: GalleryState, lang: str) -> list[WorkView]:
    summaries = sorted(state.ctx.store.summaries(), key=lambda s: (-s.received_at, s.work_id))
    return [work_view(s, lang) for s in summaries]


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
    store = state.ctx.store
    have = store.have_chunks(signed.work_id)
    arrival = state.ctx.arrivals.get(signed.work_id, {})
    received = arrival.get("time")
    summary = WorkSummary(
        work_id=signed.work_id, signed=signed, chunks_have=len(have),
        chunks_total=signed.manifest.chunk_count, complete=store.is_complete(signed.work_id),
        received_at=float(received) if isinstance(received, int | float) else 0.0,
    )
    return summary, have


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


def _arrival_text(t: Translator, arrival: dict[str, Any]) -> str:
    parts: list[str] = []
    when = arrival.get("time")
    if isinstance(when, int | float) and when > 0:
        parts.append(t("arrival_when", when=iso_datetime(when)))
    if arrival.get("link"):
        parts.append(t("arrival_link", link=str(arrival["link"])))
    hops = arrival.get("hops")
    if isinstance(hops, int):
        parts.append(t("hops", hops=hops))
    if arrival.get("uploaded"):
        parts.append(t("arrival_uploaded"))
    return ", ".join(parts)


def _text_content(content: bytes, mime: str) -> str:
    charset = "utf-8"
    for param in mime.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


async def work_page(request: web.Request) -> web.Response:
    """``GET /works/{id}``: one work with its metadata, licence and provenance."""
    state = request.app[STATE]
    lang = request_language(request)
    summary, have = _summary(state, request.match_info["work_id"])
    view = work_view(summary, lang, have)
    m = summary.signed.manifest
    text = ""
    if view.complete and view.kind == "text":
        text = _text_content(state.ctx.store.content(summary.work_id) or b"", m.mime)
    base_url = f"{request.scheme}://{request.host}"
    t = state.renderer.translators[lang]
    return state.renderer.page(
        request, "work.html", nav="works", w=view, text_content=text,
        titles=sorted(m.title.items()), verified=_verified_here(state, summary),
        arrival=_arrival_text(t, state.ctx.arrivals.get(summary.work_id, {})),
        jsonld_text=jsonld_script_text(jsonld(summary.signed, base_url, view.complete)),
        uploaded=request.query.get("uploaded") == "1",
    )


async def card_fragment(request: web.Request) -> web.Response:
    """``GET /cards/{id}``: one grid card, for the live works page to insert."""
    state = request.app[STATE]
    lang = request_language(request)
    summary, _ = _summary(state, request.match_info["work_id"])
    html = state.renderer.render("card.html", lang, work=work_view(summary, lang))
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
    net = network_map(heard, state.ctx.position, page)
    return state.renderer.page(
        request, "network.html", nav="network", net=net, ago=_ago(state.renderer.translators[lang], time.time())
    )


async def about_page(request: web.Request) -> web.Response:
    """``GET /about``: the exhibition, the mesh, and how to join the channel."""
    state = request.app[STATE]
    return state.renderer.page(request, "about.html", nav="about", has_qr=bool(state.ctx.channel_qr_svg))
