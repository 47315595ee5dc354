"""Sample works for the demo, made locally at first run and signed by demo keys.

Nothing is downloaded: the images are drawn with Pillow from a seed, the poem is written
here, and the sound is synthesised with the standard library's ``wave`` module.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from node.artwork import Endorsement, SecretKey, WorkMetadata, build_bundle
from node.artwork.bundle import Bundle
from node.artwork.keys import write_keypair

DEMO_CREATED = 1_793_000_000  # fixed, so demo bundles are identical from run to run
LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"


@dataclass(frozen=True)
class DemoKeys:
    """The demo curator and artists (deterministic: anyone can rebuild the demo)."""

    curator: SecretKey
    artists: dict[str, SecretKey]
    names: dict[str, str]


def demo_keys() -> DemoKeys:
    """Deterministic demo keys; never use them for a real exhibition."""
    names = {"noor": "Noor Visser", "sem": "Sem de Wit", "lotte": "Lotte Bakker"}
    return DemoKeys(
        curator=SecretKey.from_seed_text("mesh-art-demo-curator", "curator"),
        artists={k: SecretKey.from_seed_text(f"mesh-art-demo-artist-{k}", "artist") for k in names},
        names=names,
    )


def _webp(image: Image.Image, quality: int = 70) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=6)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((48, 48))
    return _webp(small, quality=40)


def canal_waves(seed: int, size: int = 320) -> Image.Image:
    """Generative image: layered sine bands in canal-water colours."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), (12, 34, 56))
    draw = ImageDraw.Draw(image)
    palette = [(20, 80, 120), (40, 140, 170), (230, 200, 120), (200, 70, 60), (240, 240, 230)]
    for band in range(14):
        colour = palette[band % len(palette)]
        amp, freq, phase = rng.uniform(6, 24), rng.uniform(0.01, 0.05), rng.uniform(0, 6.3)
        base = band * size / 14
        points = [(x, base + amp * math.sin(freq * x + phase)) for x in range(0, size + 8, 8)]
        draw.line(points, fill=colour, width=rng.randint(3, 9))
    return image.filter(ImageFilter.SMOOTH)


def gable_grid(seed: int, size: int = 320) -> Image.Image:
    """Generative image: a street of Amsterdam gables in flat colours."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), (235, 228, 210))
    draw = ImageDraw.Draw(image)
    x = 0
    while x < size:
        width = rng.randint(36, 60)
        height = rng.randint(150, 260)
        colour = rng.choice([(120, 40, 30), (60, 60, 70), (150, 90, 50), (40, 70, 60), (90, 30, 40)])
        top = size - height
        draw.rectangle([x, top, x + width - 2, size], fill=colour)
        draw.polygon([(x, top), (x + width // 2, top - rng.randint(15, 40)), (x + width - 2, top)], fill=colour)
        for row in range(top + 14, size - 20, 28):
            for col in (x + 8, x + width - 20):
                draw.rectangle([col, row, col + 9, row + 14], fill=(245, 240, 220))
        x += width
    return image


POEM_NL = """Tussen de kades
draagt de lucht een stil bericht,
van dak tot dak, van hand tot hand:
niemand bezit het, iedereen ontvangt.
"""
POEM_EN = """Between the quays
the air carries a quiet message,
from roof to roof, from hand to hand:
nobody owns it, everyone receives.
"""


def chime(seed: int, seconds: float = 1.2, rate: int = 8000) -> bytes:
    """A short synthesised chime as 8-bit mono WAV."""
    rng = random.Random(seed)
    notes = [rng.choice([392.0, 440.0, 523.25, 587.33, 659.25]) for _ in range(3)]
    frames = bytearray()
    total = int(seconds * rate)
    for i in range(total):
        t = i / rate
        note = notes[min(int(t / seconds * len(notes)), len(notes) - 1)]
        envelope = math.exp(-3.0 * (t % (seconds / len(notes))))
        value = 0.45 * envelope * math.sin(2 * math.pi * note * t)
        frames += struct.pack("B", int(128 + 127 * value))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


def sample_bundles(keys: DemoKeys | None = None) -> dict[str, list[Bundle]]:
    """Sample works keyed by the venue id where each is published."""
    keys = keys or demo_keys()

    def endorse(artist: str) -> Endorsement:
        return Endorsement.create(keys.curator, keys.artists[artist].public, keys.names[artist], DEMO_CREATED, None)

    def meta(artist: str, title: tuple[str, str], desc: tuple[str, str], artform: str, medium: str,
             origin: str, alt: tuple[str, str] | None = None) -> WorkMetadata:
        return WorkMetadata(
            title={"nl": title[0], "en": title[1]},
            description={"nl": desc[0], "en": desc[1]},
            alt={"nl": alt[0], "en": alt[1]} if alt else {},
            creator=keys.names[artist], year=2026, artform=artform, medium=medium,
            license=LICENCE, origin=origin,
        )

    waves = canal_waves(7)
    gables = gable_grid(11)
    works: dict[str, list[Bundle]] = {
        "waag": [build_bundle(
            _webp(waves), "image/webp",
            meta("noor", ("Grachtgolven", "Canal waves"),
                 ("Gegenereerde golven in de kleuren van het Oosterdok.",
                  "Generated waves in the colours of the Oosterdok."),
                 "generative art", "digital image (WebP)", "waag",
                 ("Horizontale golvende banden in blauw, zand en rood.",
                  "Horizontal wavy bands in blue, sand and red.")),
            keys.artists["noor"], endorse("noor"), DEMO_CREATED, _thumbnail(waves), "image/webp")],
        "zwijger": [build_bundle(
            (POEM_NL + "\n---\n\n" + POEM_EN).encode(), "text/plain; charset=utf-8",
            meta("sem", ("Van dak tot dak", "From roof to roof"),
                 ("Een kort gedicht over het netwerk.", "A short poem about the network."),
                 "poetry", "text", "zwijger"),
            keys.artists["sem"], endorse("sem"), DEMO_CREATED)],
        "nemo": [build_bundle(
            chime(3), "audio/wav",
            meta("lotte", ("Klokje", "Chime"),
                 ("Drie tonen, gesynthetiseerd op de node.", "Three tones, synthesised on the node."),
                 "sound art", "audio (WAV, 8 kHz)", "nemo"),
            keys.artists["lotte"], endorse("lotte"), DEMO_CREATED)],
        "oba": [build_bundle(
            _webp(gables, quality=60), "image/webp",
            meta("noor", ("Gevels", "Gables"),
                 ("Een straat vol grachtenpanden, uit toeval opgebouwd.",
                  "A street of canal houses, built from chance."),
                 "generative art", "digital image (WebP)", "oba",
                 ("Rij smalle gekleurde geveltjes met witte ramen.",
                  "A row of narrow coloured gables with white windows.")),
            keys.artists["noor"], endorse("noor"), DEMO_CREATED, _thumbnail(gables), "image/webp")],
    }
    return works


def write_demo_keys(keys: DemoKeys, directory: Path) -> Path:
    """Write the demo curator's public key (what nodes trust) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-curator.key"
    if not path.exists():
        write_keypair(keys.curator, path)
    return path.with_name(path.name + ".pub")
