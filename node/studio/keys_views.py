"""Keys: create or import the artist and curator keys, show fingerprints, unlock and lock.

Private keys only ever travel browser -> studio (an imported key file); pages show public keys,
fingerprints and QR codes, never key material.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from node.artwork.errors import KeyFileError
from node.artwork.keys import Role, SecretKey
from node.artwork.keystore import WrongPassphrase, check_new_passphrase
from node.studio.qr import qr_svg
from node.studio.state import STUDIO, page, see_other, session_of
from node.studio.unlock import KeyUnavailable, form_file, form_secret, unlocked_key

KEY_ROLES: tuple[Role, ...] = ("artist", "curator")


def _role(request: web.Request) -> Role:
    name = request.match_info["role"]
    for role in KEY_ROLES:
        if role == name:
            return role
    raise web.HTTPNotFound()


def key_cards(request: web.Request) -> list[dict[str, object]]:
    """What the keys page shows for each role."""
    state = request.app[STUDIO]
    session = session_of(request)
    cards: list[dict[str, object]] = []
    for role in KEY_ROLES:
        public = state.folder.public_key(role)
        line = state.folder.public_key_line(role)
        cards.append({
            "role": role,
            "fingerprint": public.fingerprint if public else None,
            "public_line": line,
            "qr": qr_svg(line) if line else None,
            "unlocked": role in session.keys,
            "path": str(state.folder.key_path(role)),
        })
    return cards


async def keys_page(request: web.Request, *, error: str | None = None, error_role: str | None = None,
                    status: int = 200) -> web.Response:
    """``GET /keys``."""
    return page(request, "keys.html", status=status, nav="keys", cards=key_cards(request), error=error,
                error_role=error_role)


async def create_key(request: web.Request) -> web.Response:
    """``POST /keys/{role}/create``: a fresh key, sealed under the passphrase typed twice."""
    role = _role(request)
    state = request.app[STUDIO]
    form = await request.post()
    if state.folder.public_key(role) is not None:
        return await keys_page(request, error="error_key_exists", error_role=role, status=409)
    passphrase = form_secret(form, "passphrase")
    try:
        check_new_passphrase(passphrase, form_secret(form, "passphrase2"))
    except ValueError:
        return await keys_page(request, error="error_passphrase_rule", error_role=role, status=400)
    key = SecretKey.generate(role)
    await asyncio.to_thread(state.folder.save_key, key, passphrase, state.settings.kdf)
    session_of(request).keys[role] = key
    return see_other(f"/keys#{role}")


async def import_key(request: web.Request) -> web.Response:
    """``POST /keys/{role}/import``: a key file from ``mesh-art keys new`` (plain or encrypted)."""
    role = _role(request)
    state = request.app[STUDIO]
    form = await request.post()
    if state.folder.public_key(role) is not None:
        return await keys_page(request, error="error_key_exists", error_role=role, status=409)
    upload = form_file(form, "keyfile")
    if upload is None:
        return await keys_page(request, error="error_no_file", error_role=role, status=400)
    passphrase = form_secret(form, "passphrase")
    try:
        check_new_passphrase(passphrase, form_secret(form, "passphrase2"))
    except ValueError:
        return await keys_page(request, error="error_passphrase_rule", error_role=role, status=400)
    try:
        key = await asyncio.to_thread(state.folder.import_key, upload[1], role,
                                      form_secret(form, "old_passphrase"), passphrase, state.settings.kdf)
    except WrongPassphrase:
        return await keys_page(request, error="error_wrong_old_passphrase", error_role=role, status=400)
    except KeyFileError:
        return await keys_page(request, error="error_not_a_key", error_role=role, status=400)
    session_of(request).keys[role] = key
    return see_other(f"/keys#{role}")


async def unlock_key(request: web.Request) -> web.Response:
    """``POST /keys/{role}/unlock``: open the key for the rest of this session."""
    role = _role(request)
    form = await request.post()
    try:
        await unlocked_key(request, role, form_secret(form))
    except KeyUnavailable as exc:
        return await keys_page(request, error=exc.message_key, error_role=role, status=400)
    return see_other(f"/keys#{role}")


async def lock_key(request: web.Request) -> web.Response:
    """``POST /keys/{role}/lock``: forget the opened key."""
    session_of(request).keys.pop(_role(request), None)
    return see_other("/keys")


async def public_key_file(request: web.Request) -> web.Response:
    """``GET /keys/{role}.pub``: the public key file, to give to others."""
    role = _role(request)
    line = request.app[STUDIO].folder.public_key_line(role)
    if line is None:
        raise web.HTTPNotFound()
    return web.Response(text=line + "\n", content_type="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{role}.key.pub"'})
