"""Translations: both catalogues complete, every key used by templates and code exists."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest

from node.gallery.i18n import LANGUAGES, choose_language, load_catalogues, parse_accept_language, pick
from node.gallery.netmap import peer_view
from tests.gallery.helpers import heard_peer

GALLERY = Path(str(resources.files("node.gallery")))
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+)["'](?!\s*~)""")
DYNAMIC_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+_)["']\s*~""")


def _sources() -> list[str]:
    files = [*GALLERY.glob("templates/*.html"), *GALLERY.glob("*.py")]
    return [f.read_text() for f in files]


def test_catalogues_have_the_same_keys_and_placeholders():
    catalogues = load_catalogues()
    en, nl = catalogues["en"], catalogues["nl"]
    assert set(en) == set(nl)
    for key in en:
        names = {f[1] for f in string.Formatter().parse(en[key]) if f[1]}
        assert names == {f[1] for f in string.Formatter().parse(nl[key]) if f[1]}, key
        assert en[key].strip() and nl[key].strip(), key


def test_every_used_key_exists():
    catalogue = load_catalogues()["en"]
    used = set()
    for text in _sources():
        used |= set(LITERAL_KEY.findall(text))
    used |= {"upload_too_large", "upload_not_multipart", "upload_empty", "upload_missing",
             "upload_cross_origin", "upload_is_key", "upload_invalid", "upload_refused_store",
             "upload_too_slow", "upload_busy"}
    missing = used - set(catalogue)
    assert not missing
    dynamic = {prefix for text in _sources() for prefix in DYNAMIC_KEY.findall(text)}
    assert dynamic == {"kind_glyph_", "quality_", "error_"}
    for kind in ("image", "svg", "text", "audio", "video", "other"):
        assert f"kind_glyph_{kind}" in catalogue
    for quality in ("good", "fair", "weak", "unknown"):
        assert f"quality_{quality}" in catalogue
        snr = {"good": 1.0, "fair": -5.0, "weak": -15.0, "unknown": None}[quality]
        assert peer_view(heard_peer("venue", b"\x01" * 32, snr=snr)).quality == quality


def test_upload_refusal_keys_are_in_the_code():
    upload_source = (GALLERY / "upload.py").read_text()
    for key in re.findall(r'UploadRefused\(\d+, "([a-z_]+)"', upload_source):
        assert key in load_catalogues()["nl"]


def test_no_hard_coded_english_in_templates():
    # every visible text node in the templates comes from the catalogue
    for template in GALLERY.glob("templates/*.html"):
        text = re.sub(r"{[{%#].*?[}%#]}", "", template.read_text(), flags=re.S)
        text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        for node in re.findall(r">([^<>]+)<", text):
            words = re.findall(r"[A-Za-z]{3,}", node)
            assert not words, (template.name, node.strip())


@pytest.mark.parametrize(
    ("header", "expected"),
    [("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"), ("en-GB,en;q=0.9,nl;q=0.8", "en"),
     ("de-DE,de;q=0.9,nl;q=0.3,en;q=0.2", "nl"), ("fr", None), ("", None), ("nl;q=0,en;q=0.1", "en"),
     ("en;q=0.5, nl;q=0.8", "nl"), ("NL-be", "nl"), ("*", None), ("nl;q=abc", None)],
)
def test_accept_language(header, expected):
    assert parse_accept_language(header) == expected


def test_language_precedence():
    assert choose_language("nl", "en", "en") == "nl"
    assert choose_language(None, "nl", "en") == "nl"
    assert choose_language("xx", "yy", "nl") == "nl"
    assert choose_language(None, None, None) == "en"
    assert set(LANGUAGES) == {"nl", "en"}


def test_pick_reports_the_language_it_found():
    assert (pick({"nl": "Hallo", "en": "Hello"}, "nl").text, pick({"nl": "Hallo"}, "en").lang) == ("Hallo", "nl")
    assert pick({}, "en").text == ""
