"""Real test images made with Pillow (deterministic, no files in the repository)."""

from __future__ import annotations

import io
import random

from PIL import Image


def noisy_png(width: int = 800, height: int = 600, seed: int = 1) -> bytes:
    """A PNG of gradient tiles with noise: hard to compress, so budgets really bite."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    image.putdata([
        ((x * 255) // width, (y * 255) // height, rng.randrange(256) if (x // 40 + y // 40) % 2 else 128)
        for y in range(height) for x in range(width)
    ])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif(width: int = 320, height: int = 240) -> bytes:
    """A JPEG whose EXIF carries a camera model and a GPS block."""
    image = Image.new("RGB", (width, height), (200, 80, 40))
    exif = Image.Exif()
    exif[0x0110] = "SecretCam 3000"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 12.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()
