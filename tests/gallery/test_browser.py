"""End to end in real headless Chromium on real daemons: rendering, live arrival, languages,
upload, XSS, no egress, and every page type at phone and desktop size in both languages with
axe-core (WCAG 2.1 AA) and no clipped or overflowing text."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from node.artwork.bundle import Bundle
from node.daemon.runner import NodeDaemon
from node.protocol.events import ChunkReceived, WorkCompleted
from tests.gallery.artworks import audio_work, image_work, poem_work, svg_work, work_bundle
from tests.gallery.browser import CHROMIUM, CHROMIUM_ARGS, RequestLog, require_chromium, serve
from tests.gallery.node import NEMO, WAAG, ZWIJGER, running_nodes, seed_store, wait_for

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(240)]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PAYLOAD = (
    '<script>window.__pwned=1;alert("s")</script><img src=x onerror="window.__pwned=2;alert(1)">'
    '"><svg onload="window.__pwned=3">\'</script><!--'
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def open_context(browser, base: str, *, lang: str = "en", javascript: bool = True, viewport=None,
                       dark: bool = False):
    """A fresh browser context whose every request is logged and kept on 127.0.0.1."""
    context = await browser.new_context(
        viewport=viewport or {"width": 1200, "height": 900}, locale=lang, java_script_enabled=javascript,
        extra_http_headers={"Accept-Language": lang}, color_scheme="dark" if dark else "light",
        is_mobile=viewport == PHONE, has_touch=viewport == PHONE, device_scale_factor=1,
    )
    log = RequestLog(base)
    await context.route("**/*", log.handle)
    return context, log


@dataclass
class Gallery:
    """A real node's gallery served on 127.0.0.1, its daemon, and the works it holds."""

    base: str
    daemon: NodeDaemon
    works: dict[str, list[Bundle] | Bundle]

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.daemon.store


def gallery_works() -> dict:
    return {"images": [image_work(seed) for seed in range(5)], "poem": poem_work(), "audio": audio_work(),
            "svg": svg_work(), "partial": image_work(77, size=320)}


@contextlib.asynccontextmanager
async def gallery(tmp_path: Path, *, linked: bool = True, works: dict | None = None,
                  extra: list[Bundle] = ()) -> AsyncIterator[Gallery]:
    """NEMO's real daemon (and, ``linked``, Waag and De Zwijger heard over a bus), with the works stored."""
    works = gallery_works() if works is None else works
    complete = [*works.get("images", []), *[works[k] for k in ("poem", "audio", "svg") if k in works], *extra]
    stamps = iter([1_790_000_000.0 + 3600 * n for n in range(len(complete) + 1)])
    partial = [(works["partial"], 40)] if "partial" in works else []
    seed_store(tmp_path / NEMO.id, list(reversed(complete)), partial, clock=lambda: next(stamps))
    venues = [NEMO, WAAG, ZWIJGER] if linked else [NEMO]
    async with running_nodes(tmp_path, venues, linked=linked) as nodes:
        nemo = nodes[NEMO.id]
        if linked:
            await wait_for(lambda: len(nemo.heard_peers()) == 2)
        async with serve(nemo.gallery_context()) as base:
            yield Gallery(base, nemo, works)


async def test_works_page_renders_the_store(browser, tmp_path):
    async with gallery(tmp_path, linked=False) as g:
        base, works, store = g.base, g.works, g.store
        context, log = await open_context(browser, base)
        page = await context.new_page()
        await page.goto(base + "/")
        cards = page.locator("li.card")
        assert await cards.count() == len(store.work_ids())
        titles = await page.locator(".card-title").all_inner_texts()
        for bundle in [*works["images"], works["poem"], works["audio"], works["svg"], works["partial"]]:
            assert bundle.signed.manifest.title["en"] in titles
        partial = page.locator(f'li[data-work="{works["partial"].work_id.hex()}"]')
        assert "% received" in await partial.inner_text()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('.thumb img')].every(i => i.complete && i.naturalWidth > 0)"
        )
        await page.goto(f"{base}/works/{works['images'][2].work_id.hex()}")
        await page.wait_for_function("() => document.querySelector('.piece img').naturalWidth === 256")
        await context.close()
        log.assert_local()


async def test_every_page_and_work_type_loads_only_from_the_node(browser, tmp_path):
    async with gallery(tmp_path) as g:
        base, works = g.base, g.works
        context, log = await open_context(browser, base, lang="nl")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        paths = ["/", "/network", "/about", "/upload", "/welcome", "/nope"]
        paths += [f"/works/{b.work_id.hex()}" for b in (works["poem"], works["audio"], works["svg"], works["partial"])]
        for path in paths:
            await page.goto(base + path)
            await page.wait_for_load_state("networkidle") if path != "/" else None
        audio_ok = await page.goto(f"{base}/works/{works['audio'].work_id.hex()}")
        assert audio_ok.ok
        duration = await page.evaluate(
            "new Promise(r => { const a = document.querySelector('audio'); "
            "a.readyState >= 1 ? r(a.duration) : a.addEventListener('loadedmetadata', () => r(a.duration)); })"
        )
        assert duration == pytest.approx(0.5, abs=0.01)
        await context.close()
    assert not errors
    log.assert_local()


async def test_partial_work_fills_in_as_chunks_arrive(browser, tmp_path):
    async with gallery(tmp_path, linked=False) as g:
        base, works, store, hub = g.base, g.works, g.store, g.daemon.hub
        bundle = works["partial"]
        wid = bundle.work_id
        chunks = bundle.chunks()
        context, log = await open_context(browser, base)
        work_page = await context.new_page()
        grid_page = await context.new_page()
        await work_page.goto(f"{base}/works/{wid.hex()}")
        await grid_page.goto(base + "/")
        for page in (work_page, grid_page):
            await page.wait_for_selector("html[data-live=on]")
        card_bar = grid_page.locator(f'li[data-work="{wid.hex()}"] progress')
        bar = work_page.locator("article progress")
        assert await bar.get_attribute("value") == "40"

        have = 40
        for step_end in (len(chunks) * 2 // 3, len(chunks) - 5, len(chunks)):
            for index in range(have, step_end):
                store.put_chunk(wid, index, chunks[index])  # as the engine stores a verified chunk
                hub.publish(ChunkReceived(wid, index, index + 1, len(chunks), "lora"))
            have = step_end
            if have < len(chunks):
                await work_page.wait_for_function(
                    "n => document.querySelector('article progress').value === n", arg=have)
                await work_page.wait_for_function(  # the aria-live note keeps in step with the bar
                    "n => document.querySelector('[data-percent]').textContent.includes(String(n))",
                    arg=100 * have // len(chunks))
                await grid_page.wait_for_function(
                    "([id, n]) => document.querySelector(`li[data-work='${id}'] progress`).value === n",
                    arg=[wid.hex(), have])
                # the received prefix of the JPEG is drawn while the rest is on its way
                await work_page.wait_for_function(
                    "n => (i => i.src.endsWith('/prefix?n=' + n) && i.complete && i.naturalWidth === 320)"
                    "(document.querySelector('img[data-live-image]'))", arg=have)
        assert await card_bar.count() == 1
        hub.publish(WorkCompleted(wid, "lora"))
        await work_page.wait_for_selector("article[data-complete=yes]")
        src = await work_page.locator("img[data-live-image]").get_attribute("src")
        assert src.endswith(f"/media/{wid.hex()}")
        assert await bar.count() == 0
        await grid_page.wait_for_function(
            "id => !document.querySelector(`li[data-work='${id}'] progress`)"
            " && document.querySelector(`li[data-work='${id}'] img`).src.endsWith('/media/' + id)", arg=wid.hex())
        await context.close()
    log.assert_local()


async def test_new_work_appears_on_the_open_works_page(browser, tmp_path):
    async with gallery(tmp_path) as g:
        base = g.base
        context, log = await open_context(browser, base)
        page = await context.new_page()
        await page.goto(base + "/")
        await page.wait_for_selector("html[data-live=on]")
        before = await page.locator("li.card").count()
        fresh = image_work(123)
        await g.daemon.ingest(fresh.to_bytes())  # through the engine, which reports the new work
        await page.wait_for_selector(f'li[data-work="{fresh.work_id.hex()}"] .card-title')
        assert await page.locator("li.card").count() == before + 1
        assert await page.locator("li.card").first.get_attribute("data-work") == fresh.work_id.hex()
        await context.close()
    log.assert_local()


async def test_language_switch(browser, tmp_path):
    async with gallery(tmp_path, linked=False) as g:
        base, works = g.base, g.works
        context, log = await open_context(browser, base, lang="en")
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.locator("nav a").first.inner_text() == "Works"
        await page.get_by_role("link", name="Nederlands: deze pagina in het Nederlands").click()
        await page.wait_for_url("**/?lang=nl")
        assert await page.get_attribute("html", "lang") == "nl"
        assert await page.locator("nav a").first.inner_text() == "Werken"
        assert works["images"][0].signed.manifest.title["nl"] in await page.locator("main").inner_text()
        await page.get_by_role("link", name="Netwerk").click()  # the choice sticks (cookie)
        assert await page.get_attribute("html", "lang") == "nl"
        await page.get_by_role("link", name="English: this page in English").click()
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.locator("h1").inner_text() == "The mesh right now"
        await context.close()
    log.assert_local()


async def test_upload_of_a_good_and_a_tampered_bundle(browser, tmp_path):
    good = image_work(31)
    tampered = bytearray(poem_work().to_bytes())
    tampered[40] ^= 0x01  # inside the signed manifest
    (tmp_path / "good.meshart").write_bytes(good.to_bytes())
    (tmp_path / "bad.meshart").write_bytes(bytes(tampered))
    async with gallery(tmp_path, linked=False, works={}) as g:
        base, store = g.base, g.store
        context, log = await open_context(browser, base)
        page = await context.new_page()
        await page.goto(base + "/upload")
        await page.get_by_label("Signed bundle (.meshart)").set_input_files(str(tmp_path / "good.meshart"))
        await page.get_by_role("button", name="Verify and add").click()
        await page.wait_for_url(f"**/works/{good.work_id.hex()}?uploaded=1")
        assert "verified and stored" in await page.locator("[role=status]").inner_text()
        assert await page.locator("h1").inner_text() == good.signed.manifest.title["en"]

        await page.goto(base + "/upload")
        await page.get_by_label("Signed bundle (.meshart)").set_input_files(str(tmp_path / "bad.meshart"))
        await page.get_by_role("button", name="Verify and add").click()
        alert = page.locator("[role=alert]")
        await alert.wait_for()
        assert "signature" in await alert.inner_text()
        await context.close()
        assert store.work_ids() == [good.work_id]
    log.assert_local()


async def test_script_payloads_in_every_field_stay_text(browser, tmp_path):
    hostile = work_bundle(
        image_work(5).content, "image/jpeg",
        title={"en": "T" + PAYLOAD, "nl": "N" + PAYLOAD}, creator="C" + PAYLOAD, origin="O" + PAYLOAD,
        description={"en": "D" + PAYLOAD, "nl": "E" + PAYLOAD}, alt={"en": "A" + PAYLOAD, "nl": "B" + PAYLOAD},
        artform="F" + PAYLOAD, medium="M" + PAYLOAD, attribution="R" + PAYLOAD,
    )
    svg = svg_work()
    async with gallery(tmp_path, linked=False, works={"svg": svg}, extra=[hostile]) as g:
        base = g.base
        context, log = await open_context(browser, base)
        dialogs: list[str] = []
        page = await context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), asyncio.ensure_future(dialog.dismiss())))
        await page.goto(base + "/")
        card_title = await page.locator(".card-title").filter(has_text="T<script>").inner_text()
        assert card_title == "T" + PAYLOAD
        await page.goto(f"{base}/works/{hostile.work_id.hex()}")
        assert await page.locator("h1").inner_text() == "T" + PAYLOAD
        assert "C" + PAYLOAD in await page.locator(".byline").inner_text()
        facts = await page.locator("main").inner_text()
        for prefix in ("F", "M", "O", "D", "A"):
            assert prefix + PAYLOAD in facts
        assert "R" + PAYLOAD in await page.locator("q").inner_text()
        ld = await page.evaluate("JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').text)")
        assert ld["creator"]["name"] == "C" + PAYLOAD and ld["artMedium"] == "M" + PAYLOAD
        await page.goto(f"{base}/?lang=nl")
        await page.goto(f"{base}/works/{svg.work_id.hex()}")
        await page.wait_for_function("() => document.querySelector('.piece img').naturalWidth === 120")
        await page.goto(f"{base}/media/{svg.work_id.hex()}")  # opened directly: sandboxed
        await page.wait_for_timeout(300)
        flags = await page.evaluate("[window.__pwned, window.__svgRan]")
        await page.goto(base + "/")
        flags += await page.evaluate("[window.__pwned, window.__svgRan]")
        await context.close()
    assert dialogs == []
    assert flags == [None, None, None, None]
    log.assert_local()


async def test_pages_work_without_javascript(browser, tmp_path):
    async with gallery(tmp_path, linked=False) as g:
        base, works, store = g.base, g.works, g.store
        context, log = await open_context(browser, base, javascript=False)
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.locator("li.card").count() == len(store.work_ids())
        await page.goto(f"{base}/works/{works['partial'].work_id.hex()}")
        assert await page.locator("article progress").get_attribute("value") == "40"
        assert await page.locator("[data-live-note]").is_hidden()
        await context.close()
    log.assert_local()


def axe_source() -> str:
    """axe-core's script, as the axe-playwright-python package ships it (as the studio's tests use it)."""
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


# Elements holding text whose box leaves the viewport, or whose text is cut by its own box.
# (The skip link waits off-screen until focused; a text tile fades its last line out on purpose.)
OVERFLOW_JS = """() => {
    const out = [], width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) out.push('page scrolls sideways');
    for (const el of document.body.querySelectorAll('*')) {
        if (el.closest('.skip, .tile-text, svg, script, style, [hidden], audio, video')) continue;
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        const style = getComputedStyle(el);
        const what = el.tagName + ' ' + el.textContent.trim().slice(0, 40);
        if (box.left < -1 || box.right > width + 1) out.push('outside: ' + what);
        if (style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
            out.push('clipped: ' + what);
    }
    for (const t of document.querySelectorAll('svg text')) {
        const svg = t.ownerSVGElement.getBoundingClientRect(), box = t.getBoundingClientRect();
        if (box.left < svg.left - 1 || box.right > svg.right + 1) out.push('map label clips: ' + t.textContent);
    }
    return out;
}"""


def page_types(works: dict) -> dict[str, str]:
    return {
        "welcome": "/welcome", "works": "/", "network": "/network", "about": "/about",
        "image": f"/works/{works['images'][0].work_id.hex()}", "svg": f"/works/{works['svg'].work_id.hex()}",
        "text": f"/works/{works['poem'].work_id.hex()}", "audio": f"/works/{works['audio'].work_id.hex()}",
        "arriving": f"/works/{works['partial'].work_id.hex()}",
    }


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
async def test_every_page_type_is_accessible_and_nothing_overflows(browser, tmp_path, dark):
    source = axe_source()
    async with gallery(tmp_path) as g:
        problems: dict[str, object] = {}
        for size_name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            for lang in ("en", "nl"):
                context, log = await open_context(browser, g.base, lang=lang, viewport=viewport, dark=dark)
                page = await context.new_page()
                for name, path in page_types(g.works).items():
                    await page.goto(g.base + path)
                    await page.wait_for_load_state("networkidle")
                    where = f"{size_name}/{lang}/{name}"
                    if violations := await axe_violations(page, source):
                        problems[where + " axe"] = violations
                    if overflow := await page.evaluate(OVERFLOW_JS):
                        problems[where + " overflow"] = overflow
                await context.close()
                log.assert_local()
    assert not problems, problems


async def test_phone_header_is_compact_and_the_first_work_is_above_the_fold(browser, tmp_path):
    async with gallery(tmp_path, linked=False) as g:
        for lang in ("en", "nl"):
            context, log = await open_context(browser, g.base, lang=lang, viewport=PHONE)
            page = await context.new_page()
            await page.goto(g.base + "/")
            header = await page.locator("header.site").bounding_box()
            assert header["height"] <= 0.13 * PHONE["height"], header
            nav_rows = await page.evaluate(
                "new Set([...document.querySelectorAll('header nav li')]"
                ".map(li => li.getBoundingClientRect().top)).size")
            assert nav_rows == 1
            switch = await page.locator(".lang-switch").bounding_box()
            assert switch["width"] <= 48 and switch["height"] >= 44  # icon-sized, still a full touch target
            first = await page.locator("li.card").first.bounding_box()
            second = await page.locator("li.card").nth(1).bounding_box()
            assert first["y"] + first["height"] * 0.75 <= PHONE["height"]  # the first work is seen at once
            assert second["y"] == first["y"]  # two columns
            await context.close()
            log.assert_local()


async def test_screenshots_for_the_docs(browser, tmp_path):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    async with gallery(tmp_path) as g:
        shots = [("phone", PHONE, "/", "gallery-phone-works"), ("phone", PHONE, "/network", "gallery-phone-network"),
                 ("phone", PHONE, "/welcome", "gallery-phone-welcome"),
                 ("phone", PHONE, f"/works/{g.works['audio'].work_id.hex()}", "gallery-phone-audio"),
                 ("desktop", DESKTOP, "/", "gallery-desktop-works"),
                 ("desktop", DESKTOP, "/network", "gallery-desktop-network"),
                 ("desktop", DESKTOP, f"/works/{g.works['images'][2].work_id.hex()}", "gallery-desktop-work")]
        for _, viewport, path, name in shots:
            context, log = await open_context(browser, g.base, viewport=viewport)
            page = await context.new_page()
            await page.goto(g.base + path)
            await page.wait_for_load_state("networkidle")
            await page.wait_for_function("() => [...document.images].every(i => i.complete)")
            await page.screenshot(path=str(DOCS_IMG / f"{name}.png"), full_page=path != "/")
            await context.close()
            log.assert_local()
    assert (DOCS_IMG / "gallery-phone-works.png").stat().st_size > 10_000
