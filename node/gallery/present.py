"""View models: what the templates show of a stored work, and its schema.org JSON-LD.

Everything here is plain data; escaping is left to Jinja's autoescape (and, for JSON-LD, to
:func:`jsonld_script_text`, which makes the JSON safe inside a ``<script>`` element).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from node.artwork.keys import fingerprint
from node.artwork.licences import licence_name
from node.artwork.manifest import SignedManifest
from node.gallery.context import VenueNames
from node.gallery.i18n import LangText, pick
from node.store.base import WorkSummary

# Raster formats a browser can draw from a truncated file: their first chunks already show
# the top of the picture (or a coarse pass of it), so a partial work can be shown growing.
PROGRESSIVE_MIMES = frozenset({"image/jpeg", "image/png", "image/gif"})


def base_mime(mime: str) -> str:
    """The MIME type without parameters, lower-cased (``text/plain; charset=utf-8`` -> ``text/plain``)."""
    return mime.split(";", 1)[0].strip().lower()


def work_kind(mime: str) -> str:
    """How the gallery presents a work: image, svg, text, audio, video or other."""
    base = base_mime(mime)
    if base == "image/svg+xml":
        return "svg"
    major = base.split("/", 1)[0]
    return major if major in ("image", "text", "audio", "video") else "other"


@dataclass(frozen=True)
class WorkView:
    """One work as the pages show it, in one interface language."""

    id: str
    title: LangText
    description: LangText
    alt: LangText
    creator: str
    year: int
    artform: str
    medium: str
    licence_uri: str
    licence_name: str
    attribution: str
    mime: str
    size: int
    created: int
    origin: str | None
    kind: str
    has_preview: bool
    complete: bool
    chunks_have: int
    chunks_total: int
    prefix_chunks: int
    received_at: float
    artist_fingerprint: str
    curator_fingerprint: str
    endorsed_name: str
    endorsed_until: int | None
    opening: str = ""  # a text work's first lines, for its typographic tile
    waveform_seconds: float | None = None  # an audio work whose waveform is drawn: its length

    @property
    def percent(self) -> int:
        """Whole percent of chunks received (100 only when complete)."""
        if self.complete:
            return 100
        return min(99, (100 * self.chunks_have) // self.chunks_total) if self.chunks_total else 0

    @property
    def thumbnail_url(self) -> str | None:
        """The image for a grid card: the work itself when whole, else its preview."""
        if self.complete and self.kind in ("image", "svg"):
            return f"/media/{self.id}"
        return f"/preview/{self.id}" if self.has_preview else None

    @property
    def progressive(self) -> bool:
        """True for raster formats a browser draws from a truncated file."""
        return self.kind == "image" and base_mime(self.mime) in PROGRESSIVE_MIMES

    @property
    def shows_prefix(self) -> bool:
        """True when the partial content can be drawn as an image already."""
        return not self.complete and self.progressive and self.prefix_chunks > 0


def prefix_length(have: set[int]) -> int:
    """How many chunks from index 0 are held without a gap."""
    count = 0
    while count in have:
        count += 1
    return count


def decode_text(content: bytes, mime: str) -> str:
    """A text work's content in the charset its MIME type names (UTF-8 otherwise), never failing."""
    charset = "utf-8"
    for param in mime.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return content.decode(charset, errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


def opening_lines(text: str, lines: int = 5, chars: int = 180) -> str:
    """The first non-empty ``lines`` of ``text``, at most ``chars`` characters, for a tile."""
    kept = [line.strip() for line in text.splitlines() if line.strip()][:lines]
    joined = "\n".join(kept)
    return joined if len(joined) <= chars else joined[: chars - 1].rstrip() + "…"


def work_view(summary: WorkSummary, lang: str, have: set[int] | None = None, *, venues: VenueNames | None = None,
              opening: str = "", waveform_seconds: float | None = None) -> WorkView:
    """Build the view of a stored work; ``have`` (held chunk indices) enables prefix display.

    ``venues`` turns the manifest's venue of origin (often a profile id) into its name.
    """
    m = summary.signed.manifest
    origin = (venues or VenueNames()).name(m.origin) if m.origin else None
    return WorkView(
        id=summary.work_id.hex(),
        title=pick(m.title, lang),
        description=pick(m.description, lang),
        alt=pick(m.alt, lang),
        creator=m.creator,
        year=m.year,
        artform=m.artform,
        medium=m.medium,
        licence_uri=m.license,
        licence_name=licence_name(m.license),
        attribution=m.attribution,
        mime=m.mime,
        size=m.size,
        created=m.created,
        origin=origin,
        kind=work_kind(m.mime),
        has_preview=m.preview is not None,
        complete=summary.complete,
        chunks_have=summary.chunks_have,
        chunks_total=summary.chunks_total,
        prefix_chunks=prefix_length(have) if have is not None else 0,
        received_at=summary.received_at,
        artist_fingerprint=fingerprint(m.artist),
        curator_fingerprint=fingerprint(m.endorsement.curator),
        endorsed_name=m.endorsement.name,
        endorsed_until=m.endorsement.valid_until,
        opening=opening,
        waveform_seconds=waveform_seconds,
    )


def _utc(unix_seconds: float, pattern: str) -> str:
    try:
        return datetime.fromtimestamp(unix_seconds, UTC).strftime(pattern)
    except (OverflowError, OSError, ValueError):  # outside datetime's years 1..9999
        return "?"


def iso_date(unix_seconds: float) -> str:
    """``YYYY-MM-DD`` (UTC) of a Unix time; ``?`` for one no calendar date can show."""
    return _utc(unix_seconds, "%Y-%m-%d")


def iso_datetime(unix_seconds: float) -> str:
    """``YYYY-MM-DD HH:MM UTC`` of a Unix time; ``?`` for one no calendar date can show."""
    return _utc(unix_seconds, "%Y-%m-%d %H:%M UTC")


def _lang_values(field_map: dict[str, str]) -> list[dict[str, str]]:
    return [{"@language": lang, "@value": text} for lang, text in sorted(field_map.items()) if text]


def jsonld(signed: SignedManifest, base_url: str, complete: bool, origin: str | None = None) -> dict[str, Any]:
    """schema.org VisualArtwork for one work, following the NDE profile's field choices."""
    m = signed.manifest
    wid = signed.work_id.hex()
    media: dict[str, Any] = {
        "@type": "ImageObject" if m.mime.startswith("image/") else "MediaObject",
        "encodingFormat": m.mime,
        "contentSize": str(m.size),
        "sha256": m.content_hash.hex(),
        "license": m.license,
    }
    if complete:
        media["contentUrl"] = f"{base_url}/media/{wid}"
    if m.preview is not None:
        media["thumbnailUrl"] = f"{base_url}/preview/{wid}"
    if m.alt:
        media["description"] = _lang_values(m.alt)
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VisualArtwork",
        "@id": f"{base_url}/works/{wid}",
        "identifier": f"urn:sha256:{wid}",
        "name": _lang_values(m.title),
        "creator": {"@type": "Person", "name": m.creator},
        "dateCreated": str(m.year),
        "artform": m.artform,
        "artMedium": m.medium,
        "license": m.license,
        "creditText": m.attribution,
        "associatedMedia": media,
    }
    if m.description:
        doc["description"] = _lang_values(m.description)
    if m.alt:
        doc["accessibilitySummary"] = _lang_values(m.alt)
    if m.origin:
        doc["locationCreated"] = {"@type": "Place", "name": origin or m.origin}
    return doc


def jsonld_script_text(doc: dict[str, Any]) -> str:
    """JSON that cannot end its ``<script>`` element early nor open a comment or CDATA."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
