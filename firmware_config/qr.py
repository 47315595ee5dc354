"""The exhibition channel's QR code, so visitors' Meshtastic apps can join the channel."""

from __future__ import annotations

from pathlib import Path

import segno

QR_FORMATS = (".png", ".svg")


def write_qr(url: str, out: Path, scale: int = 8) -> None:
    """Write ``url`` as a QR code; the format follows the file suffix (.png or .svg)."""
    if out.suffix.lower() not in QR_FORMATS:
        raise ValueError(f"{out}: use a .png or .svg file name")
    segno.make(url, error="m").save(str(out), scale=scale, border=4)
