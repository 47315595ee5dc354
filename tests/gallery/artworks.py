"""Signed works of every kind for the gallery tests and the load benchmark."""

from __future__ import annotations

import io
import math
import struct

from PIL import Image, ImageDraw

from node.artwork import Endorsement, WorkMetadata, build_bundle
from node.artwork.bundle import Bundle
from tests.factories import CREATED, artist_key, curator_key

# Venue ids, as manifests name their origin; the gallery shows the profiles' names.
VENUES = ("nemo", "waag", "oba", "zwijger")


def artwork_image(seed: int, size: int = 256, fmt: str = "JPEG", quality: int = 80) -> bytes:
    """A small generative picture: concentric rings and bands whose colours follow ``seed``."""
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    hue = (seed * 47) % 360
    for ring in range(24, 0, -1):
        t = ring / 24
        r = int(127 + 120 * math.sin(math.radians(hue) + t * 3))
        g = int(127 + 120 * math.sin(math.radians(hue + 120) + t * 2))
        b = int(127 + 120 * math.sin(math.radians(hue + 240) + t * 4))
        radius = t * size * 0.75
        cx, cy = size * (0.3 + 0.4 * ((seed % 5) / 5)), size * (0.35 + 0.3 * ((seed % 3) / 3))
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(r, g, b))
    for band in range(0, size, 16):
        draw.line((0, band + seed % 16, size, band), fill=(20, 20, 30), width=1)
    out = io.BytesIO()
    image.save(out, fmt, quality=quality) if fmt in ("JPEG", "WEBP") else image.save(out, fmt)
    return out.getvalue()


def preview_of(image_bytes: bytes) -> bytes:
    """A tiny WebP thumbnail, as ``mesh-art publish`` would embed."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    image.thumbnail((48, 48))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=40)
    return out.getvalue()


def wav_tone(seconds: float = 0.5, rate: int = 8000, freq: float = 440.0) -> bytes:
    """A mono 8-bit PCM WAV file with a sine tone."""
    frames = bytes(int(128 + 100 * math.sin(2 * math.pi * freq * n / rate)) for n in range(int(seconds * rate)))
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, rate, rate, 1, 8) + b"data" + struct.pack("<I", len(frames))
    return header + frames


def work_bundle(
    content: bytes,
    mime: str,
    *,
    title: dict[str, str],
    creator: str = "Ada Test",
    origin: str | None = "waag",
    description: dict[str, str] | None = None,
    alt: dict[str, str] | None = None,
    artform: str = "digital art",
    medium: str = "pixels",
    attribution: str = "",
    preview: bytes | None = None,
    artist_name: str = "ada",
    created: int = CREATED,
) -> Bundle:
    """A signed bundle by a test artist endorsed by the test curator."""
    artist = artist_key(artist_name)
    endorsement = Endorsement.create(curator_key(), artist.public, creator[:120], CREATED - 86400)
    meta = WorkMetadata(
        title=title, creator=creator, year=2026, artform=artform, medium=medium,
        license="https://creativecommons.org/licenses/by-sa/4.0/", attribution=attribution,
        description=description or {}, alt=alt or {}, origin=origin,
    )
    return build_bundle(content, mime, meta, artist, endorsement, created,
                        preview=preview, preview_mime="image/webp" if preview else None)


def image_work(seed: int, *, origin: str | None = None, size: int = 256, with_preview: bool = True) -> Bundle:
    """A JPEG work with a WebP preview."""
    image = artwork_image(seed, size)
    return work_bundle(
        image, "image/jpeg",
        title={"en": f"Tide study {seed}", "nl": f"Getijdenstudie {seed}"},
        description={"en": "Rings of colour drifting across the harbour.",
                     "nl": "Kleurringen die over de haven drijven."},
        alt={"en": f"Concentric coloured rings, variation {seed}",
             "nl": f"Concentrische gekleurde ringen, variant {seed}"},
        origin=origin or VENUES[seed % len(VENUES)], preview=preview_of(image) if with_preview else None,
        created=CREATED + seed,
    )


def poem_work(seed: int = 0) -> Bundle:
    """A short bilingual-titled poem as text/plain."""
    text = "De radio fluistert\nvan dak tot dak\nstukje voor stukje\nkomt het beeld terug.\n"
    return work_bundle(
        text.encode(), "text/plain; charset=utf-8",
        title={"en": "Roof to roof", "nl": "Van dak tot dak"}, creator="Bea Dichter", origin="oba",
        artform="poetry", medium="text", artist_name="bea", created=CREATED + 1000 + seed,
    )


def audio_work() -> Bundle:
    """Half a second of a 440 Hz tone as audio/wav."""
    return work_bundle(
        wav_tone(), "audio/wav", title={"en": "Carrier", "nl": "Draaggolf"}, creator="Cas Klank",
        origin="zwijger", artform="sound art", medium="audio", artist_name="cas", created=CREATED + 2000,
    )


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
    b'<script>window.parent.__svgRan = 1; alert("svg")</script>'
    b'<rect width="120" height="120" fill="#0a6560"/><circle cx="60" cy="60" r="40" fill="#f6c344"/></svg>'
)


def svg_work() -> Bundle:
    """An SVG that carries a script (which must never run)."""
    return work_bundle(
        SVG_WITH_SCRIPT, "image/svg+xml", title={"en": "Sun over water", "nl": "Zon boven water"},
        alt={"en": "A yellow disc on teal", "nl": "Een gele schijf op blauwgroen"}, creator="Dirk Vector",
        origin="nemo", medium="SVG", artist_name="dirk", created=CREATED + 3000,
    )


# What visitors must read for each venue id (from firmware_config/profiles).
VENUE_NAMES = {"nemo": "NEMO Science Museum", "waag": "Waag Futurelab", "oba": "OBA Oosterdok",
               "zwijger": "Pakhuis de Zwijger"}
