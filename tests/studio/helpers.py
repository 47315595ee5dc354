"""Studio test helpers: a studio served on 127.0.0.1, fast key sealing, axe-core in the page."""

from __future__ import annotations

import io
import math
import random
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from PIL import Image, ImageDraw

from node.artwork.keystore import INTERACTIVE
from node.studio.app import create_app
from node.studio.settings import StudioSettings

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def settings_for(home: Path, **overrides: object) -> StudioSettings:
    """Studio settings for tests: INTERACTIVE Argon2id (the app's default is MODERATE)."""
    values: dict[str, object] = {"home": home, "kdf": INTERACTIVE}
    values.update(overrides)
    return StudioSettings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_studio(settings: StudioSettings) -> AsyncIterator[str]:
    """Run a studio on 127.0.0.1 in this process; yields its base URL."""
    runner = web.AppRunner(create_app(settings), shutdown_timeout=5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def photo(width: int = 900, height: int = 640, seed: int = 3) -> bytes:
    """A detailed PNG picture (hundreds of KiB), so any budget means re-encoding."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 2):
        for x in range(0, width, 2):
            grain = rng.randrange(-40, 40)  # film grain: what makes photographs expensive to encode
            r = int(127 + 90 * math.sin((x * 0.021 + seed) + math.cos(y * 0.013))) + grain
            g = int(127 + 90 * math.sin(y * 0.017 + seed * 2)) + grain
            b = int(127 + 90 * math.cos((x + y) * 0.011)) - grain
            draw.rectangle((x, y, x + 1, y + 1), fill=(r, g, b))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def csrf_of(html: str) -> str:
    """The CSRF token in a studio page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def axe_source() -> str:
    """axe-core's script, as the axe-playwright-python package ships it."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


async def axe_violations(page, source: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    await page.evaluate(source)
    return await page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""",
        WCAG_AA,
    )
