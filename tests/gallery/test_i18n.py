"""Translations: gettext catalogues, both complete, every message used and every used one there."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from node.gallery.context import HeardPeer
from node.gallery.i18n import LANGUAGES, choose_language, parse_accept_language, pick, read_catalogue
from node.gallery.netmap import peer_view
from node.protocol.events import PeerStatus

GALLERY = Path(str(resources.files("node.gallery")))
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
KEYWORDS = {"_": None, "t": None, "N_": None, "gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> set[str]:
    """Every message id the templates and the gallery's Python code ask for (Babel's extractors)."""
    found = extract_from_dir(str(GALLERY), METHODS, keywords=KEYWORDS, options_map={
        "templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}})
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def messages(lang: str) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in read_catalogue(lang) if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_has_every_used_message_and_no_unused_one(lang):
    used, held = used_messages(), set(messages(lang))
    assert used, "the extractor found nothing"
    assert not used - held, f"missing in {lang}.po: {sorted(used - held)}"
    assert not held - used, f"unused in {lang}.po: {sorted(held - used)}"


def test_catalogues_are_complete_with_the_same_placeholders():
    en, nl = messages("en"), messages("nl")
    assert set(en) == set(nl)
    for key in en:
        assert en[key].strip() and nl[key].strip(), key
        assert set(PLACEHOLDER.findall(en[key])) == set(PLACEHOLDER.findall(nl[key])), key
        for text in (en[key], nl[key]):
            text % {name: "x" for name in PLACEHOLDER.findall(text)}  # no stray % that would fail


def test_peer_quality_classes_have_messages():
    catalogue = messages("en")
    for quality, snr in {"good": 1.0, "fair": -5.0, "weak": -15.0, "unknown": None}.items():
        assert f"quality_{quality}" in catalogue
        status = PeerStatus(b"\x01" * 32, "venue", None, None, "0.1.0", 1, 0, 0, "lora", snr, None)
        assert peer_view(HeardPeer(status, 0.0)).quality == quality


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
