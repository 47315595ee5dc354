"""A work being prepared: the dropped file, and what it becomes under a byte budget.

Images (raster) over the budget are re-encoded with :func:`node.artwork.encode.fit_image`, as
``mesh-art publish --budget`` does; other kinds are published byte for byte and must fit the
256 KiB limit. Each preparation carries the warnings a person should see before signing:
absurd re-encodes (a thumbnail where a picture was), low quality, metadata kept in the file.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from node.artwork.encode import TARGET_QUALITY, EncodeError, fit_image, is_raster, make_preview, sniff_mime
from node.artwork.manifest import MAX_WORK_SIZE

KIB = 1024
MIN_BUDGET_KIB = 2
MAX_BUDGET_KIB = 128
DEFAULT_BUDGET_KIB = 24
TINY_SIDE = 200  # a re-encode whose longest side is below this is a thumbnail, no longer the picture
MAX_UPLOAD = 64 * 1024 * 1024


@dataclass(frozen=True)
class Notice:
    """A message key for the page and the values it quotes."""

    key: str
    values: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        """The values as keyword arguments for the translator."""
        return dict(self.values)


@dataclass(frozen=True)
class Prepared:
    """The bytes that would be published under one budget, and what to say about them."""

    budget: int | None
    content: bytes
    mime: str
    width: int | None
    height: int | None
    quality: int | None  # None: the original bytes are kept
    preview: bytes | None
    notices: tuple[Notice, ...]
    error: Notice | None = None  # set when nothing publishable fits

    @property
    def size(self) -> int:
        """Content bytes."""
        return len(self.content)

    @property
    def reencoded(self) -> bool:
        """True when the content is a re-encoding, not the dropped file."""
        return self.quality is not None


@dataclass
class Draft:
    """A dropped file and its preparations by budget (computed once each)."""

    id: str
    filename: str
    data: bytes
    mime: str
    width: int | None = None
    height: int | None = None
    _prepared: dict[int | None, Prepared] = field(default_factory=dict, repr=False)

    @classmethod
    def from_upload(cls, filename: str, data: bytes) -> Draft:
        """A draft of the dropped file ``filename`` with bytes ``data``."""
        name = Path(filename or "work").name
        mime = sniff_mime(Path(name), data)
        width = height = None
        if is_raster(mime):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with Image.open(io.BytesIO(data)) as image:
                        width, height = image.size
            except Exception:  # Pillow raises many types for a broken image
                width = height = None
        return cls(secrets.token_urlsafe(9), name, data, mime, width, height)

    @property
    def is_image(self) -> bool:
        """True for raster images (the ones a budget re-encodes)."""
        return is_raster(self.mime)

    @property
    def is_visual(self) -> bool:
        """True for every image type, SVG included (alt text is required)."""
        return self.mime.startswith("image/")

    def prepare(self, budget: int | None) -> Prepared:
        """What this draft becomes under ``budget`` bytes (None: no budget, for non-images)."""
        key = budget if self.is_image else None
        if key not in self._prepared:
            self._prepared[key] = self._prepare(key)
        return self._prepared[key]

    def _prepare(self, budget: int | None) -> Prepared:
        if not self.is_image:
            if len(self.data) > MAX_WORK_SIZE:
                error = Notice("warn_too_large", (("size", f"{len(self.data):,}"), ("limit", f"{MAX_WORK_SIZE:,}")))
                return Prepared(None, self.data, self.mime, None, None, None, None, (), error)
            return Prepared(None, self.data, self.mime, None, None, None, None, ())
        limit = min(budget or MAX_WORK_SIZE, MAX_WORK_SIZE)
        try:
            encoded = fit_image(self.data, limit, "webp")
            preview = make_preview(encoded.data)
        except EncodeError as exc:
            return Prepared(budget, b"", self.mime, None, None, None, None, (),
                            Notice("warn_cannot_encode", (("reason", str(exc)),)))
        found: list[Notice] = []
        if encoded.quality is None and _has_exif(self.data):
            found.append(Notice("warn_exif"))
        if encoded.quality is not None:
            if max(encoded.width, encoded.height) < TINY_SIDE:
                found.append(Notice("warn_tiny", (("width", str(encoded.width)), ("height", str(encoded.height)),
                                                   ("orig_width", str(self.width)), ("orig_height", str(self.height)))))
            if encoded.quality < TARGET_QUALITY:
                found.append(Notice("warn_low_quality", (("quality", str(encoded.quality)),)))
        return Prepared(budget, encoded.data, encoded.mime, encoded.width, encoded.height, encoded.quality,
                        preview, tuple(found))


def _has_exif(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(image.getexif())
    except Exception:  # not readable: nothing to warn about here
        return False


def budget_from_kib(text: str | None) -> int:
    """The budget in bytes from the slider's KiB value, clamped to its range."""
    try:
        kib = int(text) if text else DEFAULT_BUDGET_KIB
    except ValueError:
        kib = DEFAULT_BUDGET_KIB
    return max(MIN_BUDGET_KIB, min(MAX_BUDGET_KIB, kib)) * KIB
