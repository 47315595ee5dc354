"""Budget re-encoding and previews with real Pillow images."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from node.artwork.encode import EncodeError, codec_available, fit_image, is_raster, make_preview, sniff_mime
from node.artwork.manifest import MAX_PREVIEW_BYTES
from tests.artwork.images import jpeg_with_exif, noisy_png

BUDGET = 24 * 1024


@pytest.mark.parametrize("codec", ["webp", "avif"])
def test_large_png_is_reencoded_within_budget(codec: str) -> None:
    if not codec_available(codec):
        pytest.skip(f"this Pillow lacks {codec}")
    original = noisy_png()
    assert len(original) > 10 * BUDGET
    encoded = fit_image(original, BUDGET, codec)
    assert len(encoded.data) <= BUDGET
    assert encoded.mime == f"image/{codec}"
    with Image.open(io.BytesIO(encoded.data)) as image:
        assert image.format == codec.upper()
        assert image.size == (encoded.width, encoded.height)
    assert encoded.width / encoded.height == pytest.approx(800 / 600, rel=0.01)
    assert encoded.quality is not None and 30 <= encoded.quality <= 90


def test_tighter_budget_gives_a_smaller_or_rougher_picture() -> None:
    loose = fit_image(noisy_png(), 40_000)
    tight = fit_image(noisy_png(), 6_000)
    assert len(tight.data) <= 6_000 < len(loose.data) <= 40_000
    assert (tight.width * tight.height, tight.quality) < (loose.width * loose.height, loose.quality)


def test_image_within_budget_is_kept_byte_for_byte() -> None:
    small = noisy_png(40, 30)
    assert fit_image(small, BUDGET).data == small
    assert fit_image(small, BUDGET).quality is None


def test_reencoding_drops_exif_metadata() -> None:
    photo = jpeg_with_exif()
    assert b"SecretCam" in photo
    encoded = fit_image(photo, len(photo) - 1)
    assert b"SecretCam" not in encoded.data
    with Image.open(io.BytesIO(encoded.data)) as image:
        assert not image.getexif()


def test_impossible_budget_is_a_clear_error() -> None:
    with pytest.raises(EncodeError, match="does not fit"):
        fit_image(noisy_png(200, 150), 20)


def test_non_image_is_refused() -> None:
    with pytest.raises(EncodeError, match="cannot read"):
        fit_image(b"just a poem\n" * 100, 100)


def test_preview_is_a_small_webp() -> None:
    preview = make_preview(noisy_png())
    assert len(preview) <= 1024 <= MAX_PREVIEW_BYTES
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "WEBP"
        assert max(image.size) <= 64


def test_mime_sniffing_prefers_content_over_the_name() -> None:
    assert sniff_mime(Path("photo.txt"), noisy_png(20, 20)) == "image/png"
    assert sniff_mime(Path("poem.txt"), b"roses are red") == "text/plain"
    assert sniff_mime(Path("drawing.svg"), b"<svg xmlns='http://www.w3.org/2000/svg'/>") == "image/svg+xml"
    assert sniff_mime(Path("blob"), b"\x00\x01") == "application/octet-stream"
    assert is_raster("image/png") and not is_raster("image/svg+xml") and not is_raster("text/plain")
