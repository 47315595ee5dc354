"""Serving bytes: a work's content (with Range), its received prefix, its preview, static files.

Content types come from the verified manifest only, never from sniffing or file names; every
media response carries the sandboxing CSP so an SVG or HTML work opened directly cannot run
scripts. Work ids in URLs are 64 lower-case hex digits (the route pattern enforces it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from node.artwork.manifest import SignedManifest
from node.gallery.present import base_mime, prefix_length
from node.gallery.security import MEDIA_CSP
from node.gallery.state import STATE, GalleryState

IMMUTABLE = "public, max-age=31536000, immutable"
# Shown inline by the browser; anything else is offered as a download.
INLINE_MAJOR_TYPES = ("image/", "audio/", "video/", "text/plain")
FALLBACK_MIME = "application/octet-stream"
_MIME_SYNTAX = re.compile(r"[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;\s*[\w.-]+=(?:[\w.-]+|\"[\w .-]*\"))*", re.ASCII)
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


def find_work(state: GalleryState, work_hex: str) -> SignedManifest:
    """The manifest of the work in the URL; 410 if it was taken down, 404 if unknown."""
    work_id = bytes.fromhex(work_hex)
    signed = state.ctx.store.get_manifest(work_id)
    if signed is None:
        if state.ctx.store.is_taken_down(work_id):
            raise web.HTTPGone()
        raise web.HTTPNotFound()
    return signed


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """First byte and end (exclusive) of a single ``bytes=`` range; None when unsatisfiable.

    Raises ``ValueError`` for a header this server does not understand (then the whole
    content is sent, as RFC 9110 allows).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise ValueError("only single byte ranges are supported")
    first_text, _, last_text = spec.strip().partition("-")
    if not first_text:
        suffix = int(last_text)
        if suffix <= 0:
            return None
        return max(0, size - suffix), size
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        return None
    return first, min(last, size - 1) + 1


def served_mime(mime: str) -> str:
    """The manifest's MIME type if it is a well-formed header value, else a download type."""
    return mime if _MIME_SYNTAX.fullmatch(mime) else FALLBACK_MIME


def _media_headers(mime: str, etag: str | None) -> dict[str, str]:
    headers = {"Content-Security-Policy": MEDIA_CSP, "Accept-Ranges": "bytes"}
    if etag:
        headers.update({"ETag": f'"{etag}"', "Cache-Control": IMMUTABLE})
    else:
        headers["Cache-Control"] = "no-store"
    if not base_mime(mime).startswith(INLINE_MAJOR_TYPES):
        headers["Content-Disposition"] = "attachment"
    return headers


def bytes_response(request: web.Request, data: bytes, mime: str, etag: str | None) -> web.Response:
    """``data`` with ``mime``, honouring ``Range`` and ``If-None-Match``."""
    mime = served_mime(mime)
    headers = _media_headers(mime, etag)
    if etag and request.headers.get("If-None-Match") == f'"{etag}"':
        return web.Response(status=304, headers=headers)
    range_header = request.headers.get("Range")
    if range_header:
        try:
            span = parse_range(range_header, len(data))
        except ValueError:
            span = (0, len(data))
        if span is None:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return web.Response(status=416, headers=headers)
        first, end = span
        if (first, end) != (0, len(data)):
            headers["Content-Range"] = f"bytes {first}-{end - 1}/{len(data)}"
            return web.Response(status=206, body=data[first:end], headers={**headers, "Content-Type": mime})
    return web.Response(body=data, headers={**headers, "Content-Type": mime})


async def work_content(request: web.Request) -> web.Response:
    """``GET /media/{id}``: the whole verified content of a complete work."""
    state = request.app[STATE]
    signed = find_work(state, request.match_info["work_id"])
    content = state.ctx.store.content(signed.work_id)
    if content is None:
        raise web.HTTPNotFound()
    mime = signed.manifest.mime
    return bytes_response(request, content, mime, signed.work_id.hex())


async def work_prefix(request: web.Request) -> web.Response:
    """``GET /media/{id}/prefix``: the chunks received so far from the start, without gaps."""
    state = request.app[STATE]
    signed = find_work(state, request.match_info["work_id"])
    store = state.ctx.store
    count = prefix_length(store.have_chunks(signed.work_id))
    pieces = [store.get_chunk(signed.work_id, index) for index in range(count)]
    data = b"".join(piece for piece in pieces if piece is not None)
    if not data:
        raise web.HTTPNotFound()
    mime = signed.manifest.mime
    return bytes_response(request, data, mime, None)


async def work_preview(request: web.Request) -> web.Response:
    """``GET /preview/{id}``: the small signed preview image carried in the manifest."""
    state = request.app[STATE]
    signed = find_work(state, request.match_info["work_id"])
    m = signed.manifest
    if m.preview is None:
        raise web.HTTPNotFound()
    mime = m.preview_mime or "image/webp"
    return bytes_response(request, m.preview, mime, "p" + signed.work_id.hex())


async def work_waveform(request: web.Request) -> web.Response:
    """``GET /waveform/{id}``: the picture of a complete audio work's sound."""
    state = request.app[STATE]
    signed = find_work(state, request.match_info["work_id"])
    drawn = state.waveforms.render(signed.work_id)
    if drawn is None:
        raise web.HTTPNotFound()
    return bytes_response(request, drawn.png, "image/png", "wf" + signed.work_id.hex())


async def channel_qr(request: web.Request) -> web.Response:
    """``GET /about/channel.svg``: the Meshtastic channel QR code, when the node has one."""
    svg = request.app[STATE].ctx.channel_qr_svg
    if not svg:
        raise web.HTTPNotFound()
    return bytes_response(request, svg.encode(), "image/svg+xml", None)


@dataclass(frozen=True)
class StaticFile:
    """A packaged static file held in memory."""

    body: bytes
    mime: str
    etag: str


def load_static() -> dict[str, StaticFile]:
    """Every file in ``node/gallery/static``, keyed by name."""
    files: dict[str, StaticFile] = {}
    for entry in (resources.files("node.gallery") / "static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in STATIC_TYPES:
            body = entry.read_bytes()
            files[entry.name] = StaticFile(body, STATIC_TYPES[suffix], hashlib.sha256(body).hexdigest()[:16])
    return files


STATIC = web.AppKey("gallery_static", dict)


def static_version(files: dict[str, StaticFile]) -> str:
    """A short tag that changes when any static file does (for cache-busting URLs)."""
    return hashlib.sha256("".join(f.etag for f in files.values()).encode()).hexdigest()[:10]


async def static_file(request: web.Request) -> web.Response:
    """``GET /static/{name}``: only the packaged files; anything else is a 404."""
    files: dict[str, StaticFile] = request.app[STATIC]
    found = files.get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound()
    headers = {"ETag": f'"{found.etag}"', "Cache-Control": "public, max-age=86400"}
    if request.headers.get("If-None-Match") == headers["ETag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=found.body, headers={**headers, "Content-Type": found.mime})
