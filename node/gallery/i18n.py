"""Interface languages: the translated UI strings and choosing a language per request.

The strings are gettext catalogues, ``node/gallery/locales/{nl,en}.po`` (monolingual: message
ids are keys, ``en.po`` holds the English source texts), read with Babel at start-up, so
translators can use Weblate or Poedit. Placeholders are Python ``%(name)s`` format.

A visitor's language comes from ``?lang=`` (which also sets a cookie), then the cookie, then
the browser's Accept-Language header, then English. Metadata texts are language maps in the
manifest; :func:`pick` chooses one and reports which language it actually is, so templates can
mark a fallback with its own ``lang`` attribute.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "lang"


def read_catalogue(lang: str) -> Catalog:
    """The ``.po`` catalogue of ``lang`` from ``node/gallery/locales``."""
    path = resources.files("node.gallery") / "locales" / f"{lang}.po"
    with path.open("rb") as po:
        return read_po(po, locale=lang, domain="gallery")


def load_catalogues() -> dict[str, dict[str, str]]:
    """Every catalogue as language -> message id -> translated text (untranslated ones left out)."""
    return {lang: {str(m.id): str(m.string) for m in read_catalogue(lang) if m.id and m.string}
            for lang in LANGUAGES}


def translations(catalogue: Catalog) -> Translations:
    """gettext translations compiled in memory from a ``.po`` catalogue."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain="gallery")


class Translator:
    """Looks up UI strings for one language; a missing message is a bug, so it raises."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        catalogue = read_catalogue(lang)
        self.translations = translations(catalogue)
        self._known = {str(m.id) for m in catalogue if m.id and m.string}

    def gettext(self, key: str) -> str:
        """The text of message ``key``; KeyError when the catalogue lacks it."""
        if key not in self._known:
            raise KeyError(f"no message {key!r} in the {self.lang} catalogue")
        return str(self.translations.gettext(key))

    def __call__(self, key: str, **values: object) -> str:
        text = self.gettext(key)
        return text % values if values else text


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
