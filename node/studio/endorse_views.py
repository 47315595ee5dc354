"""Endorsement, both sides.

Artist: sign a request (name, contact), hand it over as a file or QR code, import the curator's
endorsement. Curator: import a request (file or its QR text), check the signature and the
fingerprint, endorse for a period, keep the list of endorsed artists.
"""

from __future__ import annotations

import datetime as dt
import time

from aiohttp import web

from node.artwork.endorsement import Endorsement
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey
from node.artwork.request import FILE_SUFFIX, EndorsementRequest, read_request
from node.studio.folder import endorsement_state
from node.studio.qr import qr_svg
from node.studio.state import STUDIO, page, see_other, session_of
from node.studio.unlock import KeyUnavailable, form_file, form_secret, form_text, unlocked_key

VALIDITY_MONTHS = (3, 6, 12, 24)
DEFAULT_MONTHS = 12


def now() -> int:
    """Unix seconds now (the studio runs on a laptop with a real clock)."""
    return int(time.time())


# the artist's side

async def artist_page(request: web.Request, *, error: str | None = None, detail: str = "",
                      status: int = 200) -> web.Response:
    """``GET /endorsement``: the request to send, and the endorsement received."""
    folder = request.app[STUDIO].folder
    public = folder.public_key("artist")
    made = folder.request() if public else None
    endorsement = folder.endorsement() if public else None
    return page(request, "endorsement.html", status=status, nav="endorsement", has_key=public is not None,
                fingerprint=public.fingerprint if public else None,
                unlocked="artist" in session_of(request).keys, made=made,
                request_qr=qr_svg(made.to_text()) if made else None,
                request_text=made.to_text() if made else "",
                state=endorsement_state(endorsement, now()) if endorsement else None,
                error=error, detail=detail)


async def make_request(request: web.Request) -> web.Response:
    """``POST /endorsement/request``: sign a request with the artist key."""
    form = await request.post()
    try:
        artist = await unlocked_key(request, "artist", form_secret(form))
    except KeyUnavailable as exc:
        return await artist_page(request, error=exc.message_key, status=400)
    try:
        made = EndorsementRequest.create(artist, form_text(form, "name", 200), form_text(form, "contact", 400), now())
    except ValueError as exc:
        return await artist_page(request, error="error_request_fields", detail=str(exc), status=400)
    request.app[STUDIO].folder.save_request(made)
    return see_other("/endorsement#request")


async def request_file(request: web.Request) -> web.Response:
    """``GET /endorsement/request.meshart-request``: the request file to send the curator."""
    made = request.app[STUDIO].folder.request()
    if made is None:
        raise web.HTTPNotFound()
    return web.Response(body=made.to_bytes(), content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="artist{FILE_SUFFIX}"'})


async def import_endorsement(request: web.Request) -> web.Response:
    """``POST /endorsement/import``: the endorsement file the curator sent back."""
    form = await request.post()
    upload = form_file(form, "endorsement")
    if upload is None:
        return await artist_page(request, error="error_no_file", status=400)
    try:
        request.app[STUDIO].folder.import_endorsement(upload[1])
    except VerificationError as exc:
        return await artist_page(request, error="error_bad_endorsement", detail=exc.message, status=422)
    return see_other("/endorsement#endorsement")


# the curator's side

async def curator_page(request: web.Request, *, error: str | None = None, detail: str = "",
                       status: int = 200) -> web.Response:
    """``GET /curator``: import a request; the endorsed artists."""
    folder = request.app[STUDIO].folder
    public = folder.public_key("curator")
    return page(request, "curator.html", status=status, nav="curator", has_key=public is not None,
                fingerprint=public.fingerprint if public else None, artists=folder.endorsed(now()),
                error=error, detail=detail)


async def import_request(request: web.Request) -> web.Response:
    """``POST /curator/requests``: a request file or its pasted QR text, verified."""
    form = await request.post()
    upload = form_file(form, "request")
    data = upload[1] if upload else form_text(form, "text", 4000).encode()
    if not data:
        return await curator_page(request, error="error_no_request", status=400)
    try:
        incoming = read_request(data)
    except VerificationError as exc:
        return await curator_page(request, error="error_bad_request", detail=exc.message, status=422)
    request_id = session_of(request).add_request(incoming)
    return see_other(f"/curator/requests/{request_id}")


def _pending(request: web.Request) -> tuple[str, EndorsementRequest]:
    request_id = request.match_info["request_id"]
    found = session_of(request).requests.get(request_id)
    if found is None:
        raise web.HTTPNotFound()
    return request_id, found


async def request_page(request: web.Request, *, error: str | None = None, detail: str = "",
                       status: int = 200) -> web.Response:
    """``GET /curator/requests/{id}``: the verified request, and the endorse form."""
    request_id, incoming = _pending(request)
    return page(request, "request.html", status=status, nav="curator", request_id=request_id, incoming=incoming,
                fingerprint=incoming.public.fingerprint, months=VALIDITY_MONTHS, default_months=DEFAULT_MONTHS,
                unlocked="curator" in session_of(request).keys,
                has_key=request.app[STUDIO].folder.public_key("curator") is not None, error=error, detail=detail)


def valid_until(months_text: str, start: int) -> int | None:
    """The end of validity ``months_text`` months after ``start`` (``0``: no end date)."""
    months = int(months_text) if months_text.isdigit() else DEFAULT_MONTHS
    if months == 0:
        return None
    if months not in VALIDITY_MONTHS:
        months = DEFAULT_MONTHS
    day = dt.datetime.fromtimestamp(start, dt.UTC).date()
    year, month = divmod(day.month - 1 + months, 12)
    end = dt.date(day.year + year, month + 1, min(day.day, 28))
    return int(dt.datetime.combine(end, dt.time(23, 59, 59), tzinfo=dt.UTC).timestamp())


async def endorse(request: web.Request) -> web.Response:
    """``POST /curator/requests/{id}/endorse``: sign the endorsement with the curator key."""
    _request_id, incoming = _pending(request)
    form = await request.post()
    if form_text(form, "checked") != "yes":
        return await request_page(request, error="error_fingerprint_unchecked", status=400)
    try:
        curator = await unlocked_key(request, "curator", form_secret(form))
    except KeyUnavailable as exc:
        return await request_page(request, error=exc.message_key, status=400)
    issued = now()
    name = form_text(form, "name", 200) or incoming.name
    try:
        endorsement = Endorsement.create(curator, incoming.public, name, issued,
                                         valid_until(form_text(form, "months"), issued))
    except ValueError as exc:
        return await request_page(request, error="error_request_fields", detail=str(exc), status=400)
    request.app[STUDIO].folder.add_endorsed(endorsement, incoming)
    return see_other(f"/curator/artists/{_stem(endorsement)}")


def _stem(endorsement: Endorsement) -> str:
    return PublicKey(endorsement.artist).fingerprint.replace(":", "")


def _endorsed(request: web.Request) -> Endorsement:
    path = request.app[STUDIO].folder.endorsed_file(request.match_info["artist"])
    if path is None:
        raise web.HTTPNotFound()
    return Endorsement.from_bytes(path.read_bytes())


async def endorsed_page(request: web.Request) -> web.Response:
    """``GET /curator/artists/{fingerprint}``: one endorsement, to send back as a file or QR code."""
    endorsement = _endorsed(request)
    stem = _stem(endorsement)
    return page(request, "endorsed.html", nav="curator", state=endorsement_state(endorsement, now()),
                fingerprint=PublicKey(endorsement.artist).fingerprint, stem=stem)


async def endorsed_file(request: web.Request) -> web.Response:
    """``GET /curator/artists/{fingerprint}.endorsement``: the file for the artist."""
    endorsement = _endorsed(request)
    return web.Response(body=endorsement.to_bytes(), content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{_stem(endorsement)}.endorsement"'})
