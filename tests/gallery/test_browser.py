"""End to end in real headless Chromium: rendering, live arrival, languages, upload, XSS, no egress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_asyncio

from node.protocol.events import ChunkReceived, WorkCompleted
from node.store.memory import MemoryStore
from tests.gallery.browser import CHROMIUM, CHROMIUM_ARGS, RequestLog, require_chromium, serve
from tests.gallery.helpers import (
    add_partial,
    audio_work,
    heard_peer,
    image_work,
    make_context,
    poem_work,
    svg_work,
    work_bundle,
)

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PAYLOAD = (
    '<script>window.__pwned=1;alert("s")</script><img src=x onerror="window.__pwned=2;alert(1)">'
    '"><svg onload="window.__pwned=3">\'</script><!--'
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def open_context(browser, base: str, *, lang: str = "en", javascript: bool = True):
    """A fresh browser context whose every request is logged and kept on 127.0.0.1."""
    context = await browser.new_context(
        viewport={"width": 1200, "height": 900}, locale=lang, java_script_enabled=javascript,
        extra_http_headers={"Accept-Language": lang},
    )
    log = RequestLog(base)
    await context.route("**/*", log.handle)
    return context, log


def gallery_store() -> tuple[MemoryStore, dict]:
    store = MemoryStore()
    works = {"images": [image_work(seed) for seed in range(5)], "poem": poem_work(), "audio": audio_work(),
             "svg": svg_work(), "partial": image_work(77, size=320)}
    for age, bundle in enumerate([*works["images"], works["poem"], works["audio"], works["svg"]]):
        store.ingest_bundle(bundle, 1_790_000_000 - 3600 * age)
    add_partial(store, works["partial"], 40, 1_790_000_100)
    return store, works


async def test_works_page_renders_the_store_and_screenshots(browser):
    store, works = gallery_store()
    ctx = make_context(store)
    ctx.arrivals[works["images"][2].work_id] = {"link": "lora", "time": 1_790_003_600, "hops": 2}
    async with serve(ctx) as base:
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
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(DOCS_IMG / "gallery-works.png"), full_page=True)

        await page.goto(f"{base}/works/{works['images'][2].work_id.hex()}")
        await page.wait_for_function("() => document.querySelector('.piece img').naturalWidth === 256")
        await page.screenshot(path=str(DOCS_IMG / "gallery-work.png"), full_page=True)
        await context.close()
        log.assert_local()
    assert (DOCS_IMG / "gallery-works.png").stat().st_size > 10_000


async def test_every_page_and_work_type_loads_only_from_the_node(browser):
    store, works = gallery_store()
    ctx = make_context(store, channel_qr_svg='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
                       '<rect width="2" height="2"/></svg>',
                       peers=lambda: [heard_peer("Waag Futurelab", b"\x02" * 32, 52.37275, 4.90026)])
    async with serve(ctx) as base:
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


async def test_partial_work_fills_in_as_chunks_arrive(browser):
    store, works = gallery_store()
    ctx = make_context(store)
    bundle = works["partial"]
    wid = bundle.work_id
    chunks = bundle.chunks()
    async with serve(ctx) as base:
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
                ctx.store.put_chunk(wid, index, chunks[index])
                ctx.events.publish(ChunkReceived(wid, index, index + 1, len(chunks), "lora"))
            have = step_end
            if have < len(chunks):
                await work_page.wait_for_function(
                    "n => document.querySelector('article progress').value === n", arg=have)
                await grid_page.wait_for_function(
                    "([id, n]) => document.querySelector(`li[data-work='${id}'] progress`).value === n",
                    arg=[wid.hex(), have])
                # the received prefix of the JPEG is drawn while the rest is on its way
                await work_page.wait_for_function(
                    "n => (i => i.src.endsWith('/prefix?n=' + n) && i.complete && i.naturalWidth === 320)"
                    "(document.querySelector('img[data-live-image]'))", arg=have)
        assert await card_bar.count() == 1
        ctx.events.publish(WorkCompleted(wid, "lora"))
        await work_page.wait_for_selector("article[data-complete=yes]")
        src = await work_page.locator("img[data-live-image]").get_attribute("src")
        assert src.endswith(f"/media/{wid.hex()}")
        assert await bar.count() == 0
        await grid_page.wait_for_function(
            "id => !document.querySelector(`li[data-work='${id}'] progress`)"
            " && document.querySelector(`li[data-work='${id}'] img`).src.endsWith('/media/' + id)", arg=wid.hex())
        await context.close()
    log.assert_local()


async def test_new_work_appears_on_the_open_works_page(browser):
    store, _ = gallery_store()
    ctx = make_context(store)
    async with serve(ctx) as base:
        context, log = await open_context(browser, base)
        page = await context.new_page()
        await page.goto(base + "/")
        await page.wait_for_selector("html[data-live=on]")
        before = await page.locator("li.card").count()
        fresh = image_work(123)
        await ctx.ingest(fresh.to_bytes())  # publishes ManifestReceived and WorkCompleted
        await page.wait_for_selector(f'li[data-work="{fresh.work_id.hex()}"] .card-title')
        assert await page.locator("li.card").count() == before + 1
        assert await page.locator("li.card").first.get_attribute("data-work") == fresh.work_id.hex()
        await context.close()
    log.assert_local()


async def test_language_switch(browser):
    store, works = gallery_store()
    async with serve(make_context(store)) as base:
        context, log = await open_context(browser, base, lang="en")
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.locator("nav a").first.inner_text() == "Works"
        await page.get_by_role("link", name="Nederlands").click()
        await page.wait_for_url("**/?lang=nl")
        assert await page.get_attribute("html", "lang") == "nl"
        assert await page.locator("nav a").first.inner_text() == "Werken"
        assert works["images"][0].signed.manifest.title["nl"] in await page.locator("main").inner_text()
        await page.get_by_role("link", name="Netwerk").click()  # the choice sticks (cookie)
        assert await page.get_attribute("html", "lang") == "nl"
        await page.get_by_role("link", name="English").click()
        assert await page.get_attribute("html", "lang") == "en"
        assert await page.locator("h1").inner_text() == "The mesh right now"
        await context.close()
    log.assert_local()


async def test_upload_of_a_good_and_a_tampered_bundle(browser, tmp_path):
    ctx = make_context(MemoryStore())
    good = image_work(31)
    tampered = bytearray(poem_work().to_bytes())
    tampered[40] ^= 0x01  # inside the signed manifest
    (tmp_path / "good.meshart").write_bytes(good.to_bytes())
    (tmp_path / "bad.meshart").write_bytes(bytes(tampered))
    async with serve(ctx) as base:
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
        assert "failed verification" in await alert.inner_text()
        await context.close()
    assert ctx.store.work_ids() == [good.work_id]
    log.assert_local()


async def test_script_payloads_in_every_field_stay_text(browser):
    hostile = work_bundle(
        image_work(5).content, "image/jpeg",
        title={"en": "T" + PAYLOAD, "nl": "N" + PAYLOAD}, creator="C" + PAYLOAD, origin="O" + PAYLOAD,
        description={"en": "D" + PAYLOAD, "nl": "E" + PAYLOAD}, alt={"en": "A" + PAYLOAD, "nl": "B" + PAYLOAD},
        artform="F" + PAYLOAD, medium="M" + PAYLOAD, attribution="R" + PAYLOAD,
    )
    store = MemoryStore()
    store.ingest_bundle(hostile)
    svg = svg_work()
    store.ingest_bundle(svg)
    async with serve(make_context(store)) as base:
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


async def test_pages_work_without_javascript(browser):
    store, works = gallery_store()
    async with serve(make_context(store)) as base:
        context, log = await open_context(browser, base, javascript=False)
        page = await context.new_page()
        await page.goto(base + "/")
        assert await page.locator("li.card").count() == len(store.work_ids())
        await page.goto(f"{base}/works/{works['partial'].work_id.hex()}")
        assert await page.locator("article progress").get_attribute("value") == "40"
        assert await page.locator("[data-live-note]").is_hidden()
        await context.close()
    log.assert_local()
