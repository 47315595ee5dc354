"""Studio pages: Jinja2 templates (autoescaped) in Dutch or English.

The interface language follows the gallery's rule (``?lang=``, then the cookie, then the
browser's Accept-Language, then English: :func:`node.gallery.i18n.choose_language`). The
studio's own texts are in ``node/studio/locales/{nl,en}.json``; a key missing from either is
a bug, so lookups raise.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jinja2
from aiohttp import web

from node.artwork.cost import format_duration
from node.gallery.i18n import LANG_COOKIE, LANGUAGES, choose_language
from node.studio.session import Session

COOKIE_MAX_AGE = 365 * 24 * 3600


def load_messages() -> dict[str, dict[str, str]]:
    """Every studio message, as language -> key -> text."""
    folder = resources.files("node.studio") / "locales"
    return {lang: json.loads((folder / f"{lang}.json").read_text("utf-8")) for lang in LANGUAGES}


class Messages:
    """The studio's texts in one language."""

    def __init__(self, lang: str, texts: dict[str, str]) -> None:
        self.lang = lang
        self._texts = texts

    def __call__(self, key: str, **values: Any) -> str:
        text = self._texts[key]
        return text.format(**values) if values else text


def request_language(request: web.Request) -> str:
    """This request's interface language."""
    return choose_language(request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                           request.headers.get("Accept-Language"))


def kib(size: int) -> str:
    """``12.3 KiB`` or ``850 B``."""
    return f"{size / 1024:.1f} KiB" if size >= 1024 else f"{size} B"


class StudioRenderer:
    """Renders ``node/studio/templates`` with the session's CSRF token and the request's language."""

    def __init__(self, globals_: dict[str, Any]) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("node.studio", "templates"),
            autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        )
        self.env.filters["duration"] = format_duration
        self.env.filters["kib"] = kib
        self.env.globals.update(globals_)
        self.messages = {lang: Messages(lang, texts) for lang, texts in load_messages().items()}

    def page(self, request: web.Request, session: Session, template: str, status: int = 200,
             **values: Any) -> web.Response:
        """Render ``template`` for this request and session."""
        lang = request_language(request)
        other = next(code for code in LANGUAGES if code != lang)
        values.setdefault("nav", "")
        body = self.env.get_template(template).render(
            t=self.messages[lang], lang=lang, other_lang=other, csrf=session.csrf,
            switch_url=str(request.rel_url.update_query(lang=other)), **values,
        )
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        chosen = request.query.get("lang")
        if chosen in LANGUAGES and request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(LANG_COOKIE, chosen, max_age=COOKIE_MAX_AGE, path="/", samesite="Strict",
                                httponly=True)
        return response
