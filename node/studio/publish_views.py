"""Publishing: drop a file, choose a budget, describe the work, sign, then save or send the bundle.

The cost panel (re-encoded preview, bytes, frames, airtime per preset, the simulated time to
every venue, warnings) is one fragment: part of the draft page, and fetched alone by
``studio.js`` when the budget slider moves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from node.artwork.bundle import Bundle, read_bundle
from node.artwork.cost import WorkCost
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.errors import VerificationError
from node.artwork.keys import PublicKey
from node.artwork.licences import LICENCES
from node.artwork.manifest import MAX_TEXT
from node.artwork.publish import WorkMetadata, build_bundle, default_artform, default_medium
from node.gallery.security import MEDIA_CSP
from node.studio import estimate
from node.studio.draft import (
    DEFAULT_BUDGET_KIB,
    KIB,
    MAX_BUDGET_KIB,
    MIN_BUDGET_KIB,
    Draft,
    Prepared,
    budget_from_kib,
)
from node.studio.folder import endorsement_state
from node.studio.sender import NodeAddressError, send_bundle
from node.studio.state import STUDIO, page, see_other, session_of
from node.studio.unlock import KeyUnavailable, form_file, form_secret, form_text, unlocked_key

DEFAULT_LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"
TEXT_FIELDS = ("title_en", "title_nl", "description_en", "description_nl", "alt_en", "alt_nl", "creator",
               "year", "artform", "medium", "license", "attribution", "origin")


@dataclass(frozen=True)
class CostPanel:
    """Everything the cost fragment shows for one draft and budget."""

    draft: Draft
    prepared: Prepared
    budget_kib: int
    manifest_bytes: int
    cost: WorkCost | None
    reach: estimate.Reach | None
    expensive: bool
    preset: str


def _draft(request: web.Request) -> Draft:
    found = session_of(request).drafts.get(request.match_info["draft"])
    if found is None:
        raise web.HTTPNotFound()
    return found


def _budget_kib(request: web.Request, form: Mapping[str, object] | None = None) -> int:
    text = form_text(form, "budget") if form is not None else request.query.get("budget")
    return budget_from_kib(text) // KIB


def _panel(draft: Draft, budget_kib: int, preset: str, scenario: str) -> CostPanel:
    """Prepare under the budget and estimate its cost (blocking: run it in a thread)."""
    prepared = draft.prepare(budget_kib * KIB)
    if prepared.error is not None:
        return CostPanel(draft, prepared, budget_kib, 0, None, None, False, preset)
    manifest_bytes = estimate.manifest_estimate(prepared.content, prepared.mime, prepared.preview)
    cost = estimate.cost_of(manifest_bytes, prepared.size)
    try:
        reach: estimate.Reach | None = estimate.time_to_every_venue(prepared.size, prepared.mime, preset, scenario)
    except estimate.EstimateUnavailable:
        reach = None
    return CostPanel(draft, prepared, budget_kib, manifest_bytes, cost, reach,
                     estimate.is_expensive(cost, preset), preset)


async def cost_panel(request: web.Request, draft: Draft, budget_kib: int) -> CostPanel:
    """The cost panel for ``draft`` at ``budget_kib``, computed off the event loop."""
    settings = request.app[STUDIO].settings
    return await asyncio.to_thread(_panel, draft, budget_kib, settings.preset, settings.scenario)


def _artist_status(request: web.Request) -> tuple[bool, Endorsement | None, str | None]:
    folder = request.app[STUDIO].folder
    has_key = folder.public_key("artist") is not None
    endorsement = folder.endorsement() if has_key else None
    state = endorsement_state(endorsement, int(time.time())).state if endorsement else None
    return has_key, endorsement, state


async def publish_page(request: web.Request) -> web.Response:
    """``GET /publish``: drop a file (once there is a key and a valid endorsement)."""
    has_key, endorsement, state = _artist_status(request)
    return page(request, "publish.html", nav="publish", has_key=has_key, endorsement=endorsement,
                endorsement_state=state, error=None)


async def drop_file(request: web.Request) -> web.Response:
    """``POST /publish``: start a draft from the dropped file."""
    form = await request.post()
    upload = form_file(form, "work")
    if upload is None:
        has_key, endorsement, state = _artist_status(request)
        return page(request, "publish.html", status=400, nav="publish", has_key=has_key, endorsement=endorsement,
                    endorsement_state=state, error="error_no_file")
    draft = Draft.from_upload(*upload)
    session_of(request).add_draft(draft)
    return see_other(f"/publish/{draft.id}")


def _default_values(request: web.Request, draft: Draft, mime: str) -> dict[str, str]:
    _has_key, endorsement, _state = _artist_status(request)
    stem = draft.filename.rsplit(".", 1)[0].replace("_", " ").replace("-", " ").strip()
    return {
        "title_en": stem[:1].upper() + stem[1:], "title_nl": "", "description_en": "", "description_nl": "",
        "alt_en": "", "alt_nl": "", "creator": endorsement.name if endorsement else "",
        "year": str(time.gmtime().tm_year), "artform": default_artform(draft.mime),
        "medium": default_medium(mime), "license": DEFAULT_LICENCE, "attribution": "", "origin": "",
    }


async def draft_page(request: web.Request, *, values: dict[str, str] | None = None, error: str | None = None,
                     detail: str = "", status: int = 200, budget_kib: int | None = None) -> web.Response:
    """``GET /publish/{draft}``: the cost panel and the metadata form."""
    draft = _draft(request)
    kib = budget_kib if budget_kib is not None else _budget_kib(request)
    panel = await cost_panel(request, draft, kib)
    return page(request, "draft.html", status=status, nav="publish", panel=panel, values=values or
                _default_values(request, draft, panel.prepared.mime), licences=LICENCES, error=error, detail=detail,
                unlocked="artist" in session_of(request).keys, min_kib=MIN_BUDGET_KIB, max_kib=MAX_BUDGET_KIB,
                default_kib=DEFAULT_BUDGET_KIB, max_text=MAX_TEXT)


async def cost_fragment(request: web.Request) -> web.Response:
    """``GET /publish/{draft}/cost?budget=KIB``: the cost panel alone (for the slider)."""
    panel = await cost_panel(request, _draft(request), _budget_kib(request))
    return page(request, "_cost.html", panel=panel)


async def draft_content(request: web.Request) -> web.Response:
    """``GET /publish/{draft}/content?budget=KIB``: the bytes that would be published (the preview)."""
    draft = _draft(request)
    prepared = await asyncio.to_thread(draft.prepare, _budget_kib(request) * KIB if draft.is_image else None)
    if prepared.error is not None or not prepared.mime.startswith("image/"):
        raise web.HTTPNotFound()
    return web.Response(body=prepared.content, headers={"Content-Type": prepared.mime,
                                                        "Content-Security-Policy": MEDIA_CSP})


def _lang_map(values: Mapping[str, str], name: str) -> dict[str, str]:
    return {lang: values[f"{name}_{lang}"] for lang in ("en", "nl") if values[f"{name}_{lang}"]}


def _metadata(values: Mapping[str, str], draft: Draft) -> WorkMetadata:
    """The work's metadata from the form; raises ``ValueError`` with a message key."""
    title = _lang_map(values, "title")
    if not title:
        raise ValueError("error_title_needed")
    alt = _lang_map(values, "alt")
    if draft.is_visual and not alt:
        raise ValueError("error_alt_needed")
    if values["license"] not in LICENCES:
        raise ValueError("error_licence")
    if not values["creator"]:
        raise ValueError("error_creator_needed")
    try:
        year = int(values["year"])
    except ValueError:
        raise ValueError("error_year") from None
    if not 1000 <= year <= 9999:
        raise ValueError("error_year")
    return WorkMetadata(title=title, creator=values["creator"], year=year,
                        artform=values["artform"] or default_artform(draft.mime),
                        medium=values["medium"] or default_medium(draft.mime), license=values["license"],
                        attribution=values["attribution"], description=_lang_map(values, "description"),
                        alt=alt, origin=values["origin"] or None)


async def sign(request: web.Request) -> web.Response:
    """``POST /publish/{draft}/sign``: sign the bundle with the artist key, check it as a node would."""
    draft = _draft(request)
    form = await request.post()
    kib = _budget_kib(request, form)
    values = {name: form_text(form, name, MAX_TEXT) for name in TEXT_FIELDS}

    async def refuse(key: str, detail: str = "", status: int = 400) -> web.Response:
        return await draft_page(request, values=values, error=key, detail=detail, status=status, budget_kib=kib)

    _has_key, endorsement, state = _artist_status(request)
    if endorsement is None:
        return await refuse("error_no_endorsement")
    if state == "expired":
        return await refuse("error_endorsement_expired")
    try:
        meta = _metadata(values, draft)
    except ValueError as exc:
        return await refuse(str(exc))
    prepared = await asyncio.to_thread(draft.prepare, kib * KIB if draft.is_image else None)
    if prepared.error is not None:
        return await refuse(prepared.error.key)
    try:
        artist = await unlocked_key(request, "artist", form_secret(form))
    except KeyUnavailable as exc:
        return await refuse(exc.message_key)
    now = int(time.time())
    try:
        bundle = build_bundle(prepared.content, prepared.mime, meta, artist, endorsement, now, prepared.preview,
                              "image/webp" if prepared.preview is not None else None)
        read_bundle(bundle.to_bytes(), TrustAnchors([PublicKey(endorsement.curator)]), at=now)
    except (ValueError, VerificationError) as exc:
        return await refuse("error_sign_failed", str(exc), 422)
    session_of(request).bundles[draft.id] = bundle
    return see_other(f"/publish/{draft.id}/bundle")


def _bundle(request: web.Request) -> tuple[Draft, Bundle]:
    draft = _draft(request)
    bundle = session_of(request).bundles.get(draft.id)
    if bundle is None:
        raise web.HTTPNotFound()
    return draft, bundle


def bundle_name(bundle: Bundle) -> str:
    """A file name for the bundle: its title's letters and the work id's first digits."""
    manifest = bundle.signed.manifest
    title = manifest.title.get("en") or next(iter(manifest.title.values()))
    stem = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")[:40] or "work"
    return f"{stem}-{bundle.work_id.hex()[:8]}.meshart"


async def bundle_page(request: web.Request, *, answer: object = None, address: str = "", error: str | None = None,
                      status: int = 200) -> web.Response:
    """``GET /publish/{draft}/bundle``: the signed work; save it or send it to a node."""
    draft, bundle = _bundle(request)
    cost = estimate.cost_of(len(bundle.signed.raw), bundle.signed.manifest.size)
    return page(request, "bundle.html", status=status, nav="publish", draft=draft, bundle=bundle,
                manifest=bundle.signed.manifest, name=bundle_name(bundle), size=len(bundle.to_bytes()), cost=cost,
                preset=request.app[STUDIO].settings.preset, answer=answer, address=address, error=error)


async def bundle_file(request: web.Request) -> web.Response:
    """``GET /publish/{draft}/bundle.meshart``: download the bundle."""
    _, bundle = _bundle(request)
    return web.Response(body=bundle.to_bytes(), content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{bundle_name(bundle)}"'})


async def send(request: web.Request) -> web.Response:
    """``POST /publish/{draft}/send``: upload the bundle to a node and show its answer."""
    _, bundle = _bundle(request)
    form = await request.post()
    address = form_text(form, "node", 500)
    try:
        answer = await send_bundle(address, bundle.to_bytes(), bundle_name(bundle))
    except NodeAddressError:
        return await bundle_page(request, address=address, error="error_node_address", status=400)
    return await bundle_page(request, answer=answer, address=address)

