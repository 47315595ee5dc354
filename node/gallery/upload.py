"""Artist upload: a signed ``.meshart`` bundle, verified by the daemon before it is stored.

Only the bundle travels; the form says so, and a file that looks like a private key is
refused without being kept. Errors are pages in the visitor's language, each with the
verifier's own sentence as a technical detail.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from node.artwork.errors import VerificationError
from node.artwork.keys import SECRET_TAG
from node.gallery.clients import ClientLimits, client_of
from node.gallery.render import request_language
from node.gallery.state import STATE
from node.store.base import StoreError

log = logging.getLogger(__name__)

FIELD = "bundle"
READ_BLOCK = 16 * 1024


def N_(key: str) -> str:  # the gettext convention for a message marked for extraction
    """A message key, marked for the catalogue check, translated later."""
    return key


# Why a bundle failed to verify (``VerificationError.reason``), in the visitor's language.
VERIFICATION_MESSAGES = {
    "bad-magic": N_("reason_bad_magic"), "truncated": N_("reason_truncated"),
    "malformed-cbor": N_("reason_malformed_cbor"), "non-canonical": N_("reason_non_canonical"),
    "unknown-version": N_("reason_unknown_version"), "missing-field": N_("reason_missing_field"),
    "invalid-field": N_("reason_invalid_field"), "oversize": N_("reason_oversize"),
    "hash-mismatch": N_("reason_hash_mismatch"), "bad-signature": N_("reason_bad_signature"),
    "bad-endorsement-signature": N_("reason_bad_endorsement_signature"),
    "endorsement-mismatch": N_("reason_endorsement_mismatch"),
    "expired-endorsement": N_("reason_expired_endorsement"),
    "unknown-curator": N_("upload_untrusted_curator"),
}
STORE_MESSAGES = {"quota": N_("store_quota"), "disk-full": N_("store_disk_full"),
                  "taken-down": N_("store_taken_down")}


class UploadRefused(Exception):
    """A user-facing upload failure: HTTP status, message key and optional detail."""

    def __init__(self, status: int, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.detail = detail


async def upload_form(request: web.Request) -> web.Response:
    """``GET /upload``: the form."""
    state = request.app[STATE]
    return state.renderer.page(
        request, "upload.html", nav="upload", limit_kib=state.ctx.upload_limit_bytes // 1024, error=None, detail=""
    )


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


class BodyDeadline:
    """When the next bytes of a body must have arrived: ``idle_s`` after the last ones, and
    never later than ``total_s`` after the body began (a trickle of one byte every few seconds
    must not hold a connection and an upload place for ever)."""

    def __init__(self, timeout: asyncio.Timeout, limits: ClientLimits) -> None:
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._idle_s = limits.upload_idle_s
        self._end = self._loop.time() + limits.upload_deadline_s
        self.progress()

    def progress(self) -> None:
        """Bytes arrived: allow ``idle_s`` more, within the total deadline."""
        self._timeout.reschedule(min(self._end, self._loop.time() + self._idle_s))


async def read_bundle_field(request: web.Request, limit: int, limits: ClientLimits) -> bytes:
    """The bytes of the ``bundle`` file field, refusing more than ``limit`` bytes or a slow body."""
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise UploadRefused(413, N_("upload_too_large"))
    try:
        async with asyncio.timeout(None) as timeout:
            deadline = BodyDeadline(timeout, limits)
            reader = await request.multipart()
            # aiohttp reports a broken body (no starting boundary, a part cut off) while reading it
            async for part in reader:
                deadline.progress()
                if not isinstance(part, BodyPartReader) or part.name != FIELD:
                    continue
                data = bytearray()
                while block := await part.read_chunk(READ_BLOCK):
                    deadline.progress()
                    data += block
                    if len(data) > limit:
                        raise UploadRefused(413, N_("upload_too_large"))
                if not data:
                    raise UploadRefused(400, N_("upload_empty"))
                return bytes(data)
    except TimeoutError:
        raise UploadRefused(408, N_("upload_too_slow")) from None
    except (AssertionError, ValueError, KeyError, HttpProcessingError):  # bad part headers: InvalidHeader
        raise UploadRefused(400, N_("upload_not_multipart")) from None
    raise UploadRefused(400, N_("upload_missing"))


async def upload_submit(request: web.Request) -> web.StreamResponse:
    """``POST /upload``: verify and store the bundle, then show the work."""
    state = request.app[STATE]
    limit = state.ctx.upload_limit_bytes
    client = client_of(request.remote)
    try:
        if not _same_origin(request):
            raise UploadRefused(403, N_("upload_cross_origin"))
        if not state.clients.uploads.acquire(client):
            raise UploadRefused(503, N_("upload_busy"))
        try:
            data = await read_bundle_field(request, limit, state.ctx.client_limits)
        finally:
            state.clients.uploads.release(client)
        if data.lstrip().startswith(SECRET_TAG.encode()):
            raise UploadRefused(400, N_("upload_is_key"))
        try:
            work_id = await state.ctx.ingest(data)
        except VerificationError as exc:
            key = VERIFICATION_MESSAGES.get(exc.reason, N_("reason_other"))
            raise UploadRefused(422, key, exc.message) from None
        except StoreError as exc:
            key = STORE_MESSAGES.get(exc.reason, N_("store_other"))
            raise UploadRefused(409, key, str(exc) or exc.reason) from None
    except UploadRefused as refused:
        t = state.renderer.translators[request_language(request)]
        curators = ", ".join(state.ctx.trusted_curators) or t("upload_no_curators")
        page = state.renderer.page(
            request, "upload.html", status=refused.status, nav="upload", limit_kib=limit // 1024,
            error=t(refused.key, limit_kib=limit // 1024, curators=curators), detail=refused.detail,
        )
        if refused.status in (408, 503):
            page.force_close()  # no keep-alive: close once the answer is out, whatever of the body is left
            if refused.status == 503:
                page.headers["Retry-After"] = "60"
        return page
    state.cache.invalidate()
    log.info("upload stored work %s", work_id.hex())
    raise web.HTTPSeeOther(f"/works/{work_id.hex()}?uploaded=1")
