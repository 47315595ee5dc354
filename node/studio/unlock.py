"""Keys unlocked for this session: the passphrase is asked once, then the key stays in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from node.artwork.errors import KeyFileError
from node.artwork.keys import Role, SecretKey
from node.artwork.keystore import WrongPassphrase
from node.studio.state import STUDIO, session_of

PASSPHRASE_FIELD = "passphrase"


class KeyUnavailable(Exception):
    """The key is missing or locked and the passphrase given (if any) does not open it."""

    def __init__(self, message_key: str) -> None:
        super().__init__(message_key)
        self.message_key = message_key


async def unlocked_key(request: web.Request, role: Role, passphrase: str | None) -> SecretKey:
    """The ``role`` key for this session, opening it with ``passphrase`` if it is still locked."""
    session = session_of(request)
    if role in session.keys:
        return session.keys[role]
    folder = request.app[STUDIO].folder
    if folder.public_key(role) is None:
        raise KeyUnavailable(f"error_no_{role}_key")
    if not passphrase:
        raise KeyUnavailable("error_passphrase_needed")
    try:
        key = await asyncio.to_thread(folder.open_key, role, passphrase)
    except WrongPassphrase:
        raise KeyUnavailable("error_wrong_passphrase") from None
    except KeyFileError:
        raise KeyUnavailable("error_key_unreadable") from None
    session.keys[role] = key
    return key


def form_text(form: Mapping[str, object], name: str, limit: int = 4000) -> str:
    """A text field of a posted form, stripped (empty when absent or a file), cut to ``limit``."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def form_secret(form: Mapping[str, object], name: str = PASSPHRASE_FIELD) -> str:
    """A passphrase field exactly as typed (empty when absent)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_file(form: Mapping[str, object], name: str) -> tuple[str, bytes] | None:
    """The file name and bytes of an uploaded file field, or None when no file was chosen."""
    value = form.get(name)
    if isinstance(value, web.FileField):
        data = value.file.read()
        return (value.filename, data) if data else None
    return None
