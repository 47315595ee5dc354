"""Curator: sign the takedown of a work (by its id or its bundle file) and save it."""

from __future__ import annotations

import time

from aiohttp import web

from node.artwork.bundle import MAGIC
from node.artwork.errors import VerificationError
from node.artwork.manifest import parse_manifest
from node.artwork.takedown import MAX_REASON, Takedown
from node.studio.state import page, see_other, session_of
from node.studio.unlock import KeyUnavailable, form_file, form_secret, form_text, unlocked_key


def work_id_of(text: str, bundle: bytes | None) -> bytes:
    """The work id from a bundle file's manifest, or from 64 hex digits; raises ``ValueError``."""
    if bundle is not None:
        if bundle[: len(MAGIC)] != MAGIC:
            raise ValueError("error_not_a_bundle")
        length = int.from_bytes(bundle[len(MAGIC): len(MAGIC) + 4], "big")
        start = len(MAGIC) + 4
        try:
            return parse_manifest(bundle[start: start + length]).work_id
        except VerificationError:
            raise ValueError("error_not_a_bundle") from None
    try:
        work_id = bytes.fromhex(text)
    except ValueError:
        work_id = b""
    if len(work_id) != 32:
        raise ValueError("error_work_id")
    return work_id


async def takedown_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    """``GET /curator/takedown``: the form, and the takedown just signed (if any)."""
    signed = session_of(request).takedown
    return page(request, "takedown.html", status=status, nav="curator", error=error, signed=signed,
                max_reason=MAX_REASON, unlocked="curator" in session_of(request).keys)


async def sign_takedown(request: web.Request) -> web.Response:
    """``POST /curator/takedown``: sign it with the curator key."""
    form = await request.post()
    upload = form_file(form, "bundle")
    try:
        work_id = work_id_of(form_text(form, "work").lower(), upload[1] if upload else None)
    except ValueError as exc:
        return await takedown_page(request, error=str(exc), status=400)
    try:
        curator = await unlocked_key(request, "curator", form_secret(form))
    except KeyUnavailable as exc:
        return await takedown_page(request, error=exc.message_key, status=400)
    session_of(request).takedown = Takedown.create(curator, work_id, form_text(form, "reason", MAX_REASON),
                                                   int(time.time()))
    return see_other("/curator/takedown#signed")


async def takedown_file(request: web.Request) -> web.Response:
    """``GET /curator/takedown.takedown``: the signed takedown, for ``mesh-art ingest-takedown`` on a node."""
    signed = session_of(request).takedown
    if signed is None:
        raise web.HTTPNotFound()
    return web.Response(body=signed.to_bytes(), content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{signed.work_id.hex()[:16]}.takedown"'})
