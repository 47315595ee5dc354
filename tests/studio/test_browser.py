"""The whole journey in real headless Chromium at laptop size, in English and in Dutch.

An artist's studio and a curator's studio (two folders, two servers: two laptops), and a real
node daemon in this process. The curator makes a key (the node trusts it); the artist makes a
key and a request; the curator endorses it; the artist imports the endorsement, publishes an
image under a budget and sends it to the node; the work is verified there and appears in the
node's gallery. axe-core checks every studio page for WCAG 2.1 A/AA; no request leaves
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from node.artwork.keys import load_public
from node.config import load_config
from node.daemon.runner import NodeDaemon
from tests.gallery.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.studio.helpers import axe_source, axe_violations, photo, serve_studio, settings_for

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(240)]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
LAPTOP = {"width": 1366, "height": 800}
PASS = {"en": "harbour lights at dusk", "nl": "havenlichten in de schemering"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@dataclass
class Loopback:
    """Every URL the browser asked for; anything not on 127.0.0.1 is aborted and remembered."""

    seen: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    async def handle(self, route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        self.seen.append(url)
        if re.match(r"http://127\.0\.0\.1:\d+/", url):
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort()


@dataclass
class Audit:
    """axe-core results per studio page visited."""

    source: str
    pages: dict[str, list[dict]] = field(default_factory=dict)

    async def check(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        await page.wait_for_load_state("load")
        self.pages[name] = await axe_violations(page, self.source)


async def new_context(browser, lang: str, log: Loopback):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport=LAPTOP, locale=lang, accept_downloads=True,
                                        extra_http_headers={"Accept-Language": lang})
    await context.route("**/*", log.handle)
    return context


async def download(page, selector: str, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    async with page.expect_download() as info:
        await page.click(selector)
    got = await info.value
    target = folder / got.suggested_filename
    await got.save_as(str(target))
    return target


async def start_node(tmp_path: Path, curator_pub: Path) -> tuple[NodeDaemon, asyncio.Task]:
    config = tmp_path / "node.toml"
    key = load_public(str(curator_pub)).to_line().split()[-1]
    config.write_text(f'[node]\nname = "NEMO"\nvenue = "NEMO Science Museum"\ndata_dir = "{tmp_path / "node"}"\n'
                      f'trust = ["{key}"]\n[http]\nhost = "127.0.0.1"\nport = 0\n')
    daemon = NodeDaemon(load_config(config))
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 20)
    return daemon, task


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_the_whole_journey(browser, tmp_path, lang):
    shots = lang == "en"
    log = Loopback()
    audit = Audit(axe_source())
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    image = tmp_path / "harbour-lights.png"
    image.write_bytes(photo())
    curator_settings = settings_for(tmp_path / "curator-home")
    artist_settings = settings_for(tmp_path / "artist-home")
    async with serve_studio(curator_settings) as curator_url, serve_studio(artist_settings) as artist_url:
        curator_ctx = await new_context(browser, lang, log)
        artist_ctx = await new_context(browser, lang, log)
        cur = await curator_ctx.new_page()
        art = await artist_ctx.new_page()
        errors: list[str] = []
        for p in (cur, art):
            p.on("pageerror", lambda exc: errors.append(str(exc)))

        # the curator makes the exhibition's curator key
        await cur.goto(curator_url + "/keys")
        assert await cur.get_attribute("html", "lang") == lang
        await audit.check(cur, "keys (empty)")
        await cur.fill("#new-curator", PASS[lang])
        await cur.fill("#new2-curator", PASS[lang])
        await cur.click("#curator button[type=submit] >> nth=0")
        curator_fp = await cur.locator('[data-fingerprint="curator"]').inner_text()
        await audit.check(cur, "keys (curator)")
        assert (tmp_path / "curator-home" / "curator.key").read_text().startswith("mesh-art-sealed-v1 curator")
        node, node_task = await start_node(tmp_path, tmp_path / "curator-home" / "curator.key.pub")
        node_url = f"http://127.0.0.1:{node.http_port}"
        try:
            # the artist makes a key and a request
            await art.goto(artist_url + "/")
            await audit.check(art, "home (new)")
            await art.goto(artist_url + "/keys")
            await art.fill("#new-artist", PASS[lang])
            await art.fill("#new2-artist", PASS[lang])
            await art.click("#artist form[action$='/create'] button")
            artist_fp = await art.locator('[data-fingerprint="artist"]').inner_text()
            assert re.fullmatch(r"[0-9a-f]{4}(:[0-9a-f]{4}){3}", artist_fp)
            if shots:
                await art.screenshot(path=str(DOCS_IMG / "studio-keys.png"), full_page=True)
            await art.goto(artist_url + "/endorsement")
            await art.fill("#name", "Ada Bakker")
            await art.fill("#contact", "ada@example.org")
            await art.click("form[action='/endorsement/request'] button")
            await art.wait_for_selector("[data-request-file]")
            await audit.check(art, "endorsement (request made)")
            if shots:
                await art.screenshot(path=str(DOCS_IMG / "studio-request.png"), full_page=True)
            request_file = await download(art, "[data-request-file]", downloads)

            # the curator checks the request and endorses it
            await cur.goto(curator_url + "/curator")
            await audit.check(cur, "curator (empty)")
            await cur.set_input_files("#request-file", str(request_file))
            await cur.click("form[action='/curator/requests'] button")
            await cur.wait_for_selector("[data-request-fingerprint]")
            assert await cur.locator("[data-request-fingerprint]").inner_text() == artist_fp
            await audit.check(cur, "request")
            if shots:
                await cur.screenshot(path=str(DOCS_IMG / "studio-endorse.png"), full_page=True)
            await cur.check("#checked")
            await cur.select_option("#months", "12")
            await cur.click("form[action$='/endorse'] button")
            await cur.wait_for_selector("[data-endorsement-file]")
            await audit.check(cur, "endorsed")
            endorsement_file = await download(cur, "[data-endorsement-file]", downloads)
            await cur.goto(curator_url + "/curator")
            assert "Ada Bakker" in await cur.locator(f'tr[data-artist="{artist_fp}"]').inner_text()
            await audit.check(cur, "curator (list)")
            await cur.goto(curator_url + "/curator/takedown")
            await audit.check(cur, "takedown")

            # the artist imports the endorsement
            await art.goto(artist_url + "/endorsement")
            await art.set_input_files("#endorsement-file", str(endorsement_file))
            await art.click("form[action='/endorsement/import'] button")
            await art.wait_for_selector('[data-endorsement-state="valid"]')
            assert curator_fp in await art.locator("main").inner_text()
            await audit.check(art, "endorsement (endorsed)")

            # publish an image under a 12 KiB budget
            await art.goto(artist_url + "/publish")
            await audit.check(art, "publish")
            await art.set_input_files("#work", str(image))
            await art.click("form[action='/publish'] button")
            await art.wait_for_selector("[data-cost]")
            await art.fill("#budget", "12")  # the slider; studio.js refreshes the cost panel
            await art.wait_for_selector('[data-cost][data-budget="12"]', timeout=30_000)
            size = int(await art.get_attribute("[data-cost]", "data-size"))
            assert 8 * 1024 < size <= 12 * 1024
            await art.wait_for_function("() => document.querySelector('[data-preview]').naturalWidth > 0")
            assert await art.get_attribute("[data-sign-budget]", "value") == "12"
            assert re.search(r"\d", await art.locator("[data-reach]").inner_text())
            await audit.check(art, "draft")
            if shots:
                await art.screenshot(path=str(DOCS_IMG / "studio-publish.png"), full_page=True)
            await art.fill("#title_en", "Harbour lights")
            await art.fill("#title_nl", "Havenlichten")
            await art.fill("#alt_en", "Soft bands of green, pink and blue light with a fine grain")
            await art.fill("#alt_nl", "Zachte banden groen, roze en blauw licht met een fijne korrel")
            await art.select_option("#license", "https://creativecommons.org/licenses/by-sa/4.0/")
            await art.click("form[action$='/sign'] button[type=submit]")
            await art.wait_for_selector("[data-work-id]")
            work_id = await art.locator("[data-work-id]").inner_text()
            await audit.check(art, "bundle")

            # send it to the node; the node's answer is shown
            await art.fill("#node", node_url + "/")
            await art.click("form[action$='/send'] button")
            await art.wait_for_selector('[data-node-answer="accepted"]', timeout=30_000)
            await audit.check(art, "bundle (sent)")
            if shots:
                await art.screenshot(path=str(DOCS_IMG / "studio-sent.png"), full_page=True)
            assert node.store.get_manifest(bytes.fromhex(work_id)) is not None  # verified and stored
            await art.click('[data-node-answer="accepted"] a')
            await art.wait_for_url(f"{node_url}/works/{work_id}*")
            title = "Havenlichten" if lang == "nl" else "Harbour lights"
            assert title in await art.locator("h1").inner_text()
            await art.goto(node_url + "/")
            assert await art.locator(f'li[data-work="{work_id}"]').count() == 1
            await art.goto(artist_url + "/")
            await audit.check(art, "home (ready)")
        finally:
            node.request_stop("test")
            await asyncio.wait_for(node_task, 20)
        await curator_ctx.close()
        await artist_ctx.close()
    assert not errors
    failing = {name: found for name, found in audit.pages.items() if found}
    assert not failing, f"axe-core WCAG 2.1 AA violations: {failing}"
    assert len(audit.pages) >= 14
    assert log.seen and not log.blocked, f"requests left 127.0.0.1: {log.blocked}"


async def test_the_accessibility_check_can_fail(browser, tmp_path):
    """axe-core really runs in the studio's pages (despite the strict CSP): a label removed is found."""
    log = Loopback()
    async with serve_studio(settings_for(tmp_path)) as url:
        context = await new_context(browser, "en", log)
        page = await context.new_page()
        await page.goto(url + "/keys")
        source = axe_source()
        assert await axe_violations(page, source) == []
        await page.evaluate("document.querySelector('label[for=new-artist]').remove()")
        found = await axe_violations(page, source)
        assert "label" in {v["id"] for v in found}
        await context.close()
    assert not log.blocked
