"""QR codes as inline SVG (segno), black on white whatever the page's colours, for scanning."""

from __future__ import annotations

import segno


def qr_svg(text: str, scale: int = 4) -> str:
    """An ``<svg>`` element encoding ``text`` (error correction M), to place inside a page."""
    code = segno.make(text, error="m")
    svg: str = code.svg_inline(scale=scale, border=4, dark="#000", light="#fff", omitsize=False)
    return svg
