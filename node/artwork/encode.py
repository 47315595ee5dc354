"""Fitting images into a byte budget, and tiny previews, with Pillow.

The radio moves a few hundred bytes per second at best, so a work's size is its cost. For a
raster image over budget we look for the largest picture that still fits at a decent quality
(:data:`TARGET_QUALITY`): a binary search over the longest side, then a binary search for the
highest quality that fits at that size. Only when even a thumbnail-sized picture does not fit
at the target quality do we accept qualities down to :data:`MIN_QUALITY`. Re-encoding also
drops EXIF and other metadata (camera serials, GPS positions), which is what an artist wants
published.
"""

from __future__ import annotations

import io
import mimetypes
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, features

CODECS = ("webp", "avif")
MIN_QUALITY = 30
TARGET_QUALITY = 60
MAX_QUALITY = 90
SHRINK = 0.8
MIN_SIDE = 16
PREVIEW_BUDGET = 1024
PREVIEW_SIDE = 64
_MIME = {"webp": "image/webp", "avif": "image/avif"}


class EncodeError(ValueError):
    """The content cannot be made to fit, or is not an image Pillow can read."""


@dataclass(frozen=True)
class Encoded:
    """An encoded image and how it was made."""

    data: bytes
    mime: str
    width: int
    height: int
    quality: int | None  # None when the original bytes were kept


def codec_available(codec: str) -> bool:
    """True when this Pillow build can write ``codec`` (``webp`` or ``avif``)."""
    return codec in CODECS and bool(features.check(codec))


def sniff_mime(path: Path, data: bytes) -> str:
    """The MIME type of a file: Pillow's reading for raster images, else the file name."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                mime = image.get_format_mimetype() if hasattr(image, "get_format_mimetype") else None
                if mime:
                    return mime
    except Exception:  # Pillow raises many types for "not an image I know"
        pass
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def is_raster(mime: str) -> bool:
    """True for image types Pillow re-encodes (everything image/* except SVG)."""
    return mime.startswith("image/") and mime != "image/svg+xml"


def _load(data: bytes) -> Image.Image:
    try:
        opened = Image.open(io.BytesIO(data))
        opened.seek(0)  # animated images: the first frame
        image = ImageOps.exif_transpose(opened)
        image.load()
    except Exception as exc:
        raise EncodeError(f"Pillow cannot read this image ({exc})") from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode(image: Image.Image, codec: str, quality: int) -> bytes:
    out = io.BytesIO()
    if codec == "webp":
        image.save(out, "WEBP", quality=quality, method=6)
    else:
        image.save(out, "AVIF", quality=quality, speed=6)
    return out.getvalue()


def _best_quality(image: Image.Image, codec: str, budget: int, low: int = MIN_QUALITY) -> tuple[bytes, int] | None:
    """The highest quality in ``low``..MAX whose encoding fits ``budget``, or None."""
    high = MAX_QUALITY
    best: tuple[bytes, int] | None = None
    while low <= high:
        quality = (low + high) // 2
        data = _encode(image, codec, quality)
        if len(data) <= budget:
            best = (data, quality)
            low = quality + 1
        else:
            high = quality - 1
    return best


def _scaled(image: Image.Image, long_side: int) -> Image.Image:
    """``image`` resized so its longest side is ``long_side`` px (never enlarged)."""
    factor = long_side / max(image.size)
    if factor >= 1:
        return image
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _largest_side(image: Image.Image, codec: str, budget: int, quality: int) -> int | None:
    """The longest side (MIN_SIDE..original) whose encoding at ``quality`` fits, or None."""
    low, high = min(MIN_SIDE, max(image.size)), max(image.size)
    if len(_encode(_scaled(image, low), codec, quality)) > budget:
        return None
    while low < high:  # invariant: ``low`` fits
        mid = (low + high + 1) // 2
        if len(_encode(_scaled(image, mid), codec, quality)) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


def fit_image(data: bytes, budget: int, codec: str = "webp", *, keep_if_fits: bool = True) -> Encoded:
    """Re-encode an image so it is at most ``budget`` bytes, as large and sharp as possible.

    An image already within budget is kept byte for byte unless ``keep_if_fits`` is False.
    Raises :class:`EncodeError` if the codec is missing or nothing down to 16 px fits.
    """
    if not codec_available(codec):
        raise EncodeError(f"this Pillow build cannot write {codec.upper()}; use one of "
                          f"{', '.join(c for c in CODECS if codec_available(c)) or 'none'}")
    image = _load(data)
    if keep_if_fits and len(data) <= budget:
        return Encoded(data, sniff_mime(Path("x"), data), image.width, image.height, None)
    for floor in (TARGET_QUALITY, MIN_QUALITY):
        side = _largest_side(image, codec, budget, floor)
        if side is None:
            continue
        resized = _scaled(image, side)
        found = _best_quality(resized, codec, budget, low=floor)
        assert found is not None  # ``floor`` itself fits at this size
        return Encoded(found[0], _MIME[codec], resized.width, resized.height, found[1])
    small = _scaled(image, MIN_SIDE)
    raise EncodeError(f"even a {small.width}x{small.height} {codec.upper()} does not fit in {budget} bytes")


def make_preview(data: bytes, budget: int = PREVIEW_BUDGET, side: int = PREVIEW_SIDE) -> bytes:
    """A WebP thumbnail of at most ``budget`` bytes (longest side ``side`` px or less)."""
    image = _load(data)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    while True:
        found = _best_quality(image, "webp", budget)
        if found is not None:
            return found[0]
        if max(image.size) <= MIN_SIDE:
            raise EncodeError("cannot make a preview that small")
        image = image.resize((max(1, int(image.width * SHRINK)), max(1, int(image.height * SHRINK))))
