"""Interface languages: the translated UI strings and choosing a language per request.

A visitor's language comes from ``?lang=`` (which also sets a cookie), then the cookie, then
the browser's Accept-Language header, then English. Metadata texts are language maps in the
manifest; :func:`pick` chooses one and reports which language it actually is, so templates can
mark a fallback with its own ``lang`` attribute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "lang"


def load_catalogues() -> dict[str, dict[str, str]]:
    """Every locale file in ``node/gallery/locales`` as language -> key -> text."""
    folder = resources.files("node.gallery") / "locales"
    return {lang: json.loads((folder / f"{lang}.json").read_text("utf-8")) for lang in LANGUAGES}


class Translator:
    """Looks up UI strings for one language; a missing key is a bug, so it raises."""

    def __init__(self, lang: str, catalogue: dict[str, str]) -> None:
        self.lang = lang
        self._catalogue = catalogue

    def __call__(self, key: str, **values: Any) -> str:
        text = self._catalogue[key]
        return text.format(**values) if values else text


def parse_accept_language(header: str) -> str | None:
    """The supported language the header prefers most, or None."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            candidate = (-quality, position, primary)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else None


def choose_language(query_lang: str | None, cookie_lang: str | None, accept: str | None) -> str:
    """Apply the precedence ``?lang=`` > cookie > Accept-Language > English."""
    for explicit in (query_lang, cookie_lang):
        if explicit in LANGUAGES:
            return explicit
    return parse_accept_language(accept or "") or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class LangText:
    """A text with the language it is written in."""

    text: str
    lang: str

    def __str__(self) -> str:
        return self.text


def pick(field_map: dict[str, str], lang: str) -> LangText:
    """Choose ``lang`` from a manifest language map, else the other language, else empty."""
    if field_map.get(lang):
        return LangText(field_map[lang], lang)
    for other, text in field_map.items():
        if text:
            return LangText(text, other)
    return LangText("", lang)
