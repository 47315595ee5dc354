"""The gallery of a real (in-process) daemon under attack, checked in headless Chromium.

XSS payloads go through every manifest text field (and the text content) and through every
input a visitor controls: query parameters, the language cookie, Accept-Language, the upload
form's file name and body. Header injection (CRLF) and path traversal go over raw HTTP, because
a browser would normalise them away. Nothing may execute, no header may be injected, no file
outside the packaged static files may be served, and nothing may answer 500.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import pytest
import pytest_asyncio

from node.daemon.runner import NodeDaemon
from tests.gallery.artworks import work_bundle
from tests.gallery.browser import CHROMIUM, CHROMIUM_ARGS, RequestLog, require_chromium
from tests.reliability.attack_corpus import CRLF_VALUES, TRAVERSAL_PATHS, xss_payloads
from tests.reliability.inprocess import node_config, running

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(180)]
PAYLOADS = xss_payloads()
HOSTILE_MIME = "text/plain\r\nX-Injected: yes"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


def hostile_work(index: int, payload: str, mime: str = "text/plain; charset=utf-8"):
    """A text work with ``payload`` in every text field and in its content."""
    return work_bundle(
        f"poem {index}\n{payload}\n".encode(), mime, title={"en": payload, "nl": payload},
        description={"en": payload, "nl": payload}, creator=payload[:120], origin=payload, artform=payload,
        medium=payload, attribution=payload, artist_name=f"hostile-{index}", created=1_790_000_000 + index,
    )


async def raw_request(port: int, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send raw bytes; the status, the header lines and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return int(lines[0].split()[1]), headers, body


def words(text: str) -> str:
    """Text with all whitespace runs as one space (the browser's rendering folds them)."""
    return " ".join(text.split())


def get(path: str, *extra: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *extra]) + "\r\n\r\n").encode()


async def test_script_payloads_through_every_field_and_input_never_run(browser, tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "g"))
    async with running(daemon):
        works = [hostile_work(i, p) for i, p in enumerate(PAYLOADS)]
        for work in works:
            await daemon.ingest(work.to_bytes())
        base = f"http://127.0.0.1:{daemon.http_port}"
        lure = urllib.parse.quote(PAYLOADS[0])
        hostile_language = '"><script>window.__pwned=70</script>'
        context = await browser.new_context(extra_http_headers={"Accept-Language": hostile_language})
        await context.add_cookies([{"name": "lang", "value": "%22%3E%3Cscript%3Ewindow.__pwned=71%3C/script%3E",
                                    "url": base}])
        log = RequestLog(base)
        await context.route("**/*", log.handle)
        dialogs: list[str] = []
        page = await context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        visited = [f"/?lang={lure}", f"/?page={lure}", f"/network?lang={lure}", f"/about?{lure}={lure}",
                   f"/upload?lang={lure}", f"/{lure}", f"/works/{'0' * 64}?lang={lure}"]
        flags = []
        for path in visited:
            await page.goto(base + path)
            flags.append(await page.evaluate("window.__pwned"))
        for work, payload in zip(works, PAYLOADS, strict=True):
            await page.goto(f"{base}/works/{work.work_id.hex()}?uploaded=1&lang={lure}&{lure}=1")
            assert words(await page.locator("h1").inner_text()) == words(payload)  # shown literally, not run
            assert words(payload) in words(await page.locator("main").inner_text())
            await page.goto(f"{base}/cards/{work.work_id.hex()}")
            flags.append(await page.evaluate("window.__pwned"))
        await page.goto(base + "/")
        for index in (9, 10):  # the payload links, if they had become real links, would run when clicked
            assert await page.locator(f"#clickme{index}").count() == 0
        flags.append(await page.evaluate("window.__pwned"))
        await context.close()
    assert dialogs == [] and set(flags) == {None}
    log.assert_local()


async def test_hostile_upload_file_names_and_bodies_are_refused_or_shown_as_text(browser, tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "u"))
    async with running(daemon):
        base = f"http://127.0.0.1:{daemon.http_port}"
        context = await browser.new_context()
        dialogs: list[str] = []
        page = await context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
        flags = []
        for index, payload in enumerate(PAYLOADS[:6]):
            await page.goto(base + "/upload")
            await page.set_input_files("input[type=file]", files=[
                {"name": f"{payload}.meshart", "mimeType": "text/html", "buffer": payload.encode() * 20}])
            await page.locator("form button[type=submit], form input[type=submit]").first.click()
            await page.wait_for_load_state()
            assert "/upload" in page.url
            flags.append(await page.evaluate("window.__pwned"))
            good = hostile_work(100 + index, payload)
            await page.goto(base + "/upload")
            await page.set_input_files("input[type=file]", files=[
                {"name": f"{payload}.meshart", "mimeType": "application/octet-stream", "buffer": good.to_bytes()}])
            await page.locator("form button[type=submit], form input[type=submit]").first.click()
            await page.wait_for_url(f"**/works/{good.work_id.hex()}?uploaded=1")
            assert words(await page.locator("h1").inner_text()) == words(payload)
            flags.append(await page.evaluate("window.__pwned"))
        await context.close()
        assert len(daemon.store.work_ids()) == 6
    assert dialogs == [] and set(flags) == {None}


async def test_crlf_header_injection_and_path_traversal_over_raw_http(tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "h"))
    async with running(daemon):
        odd = hostile_work(0, "plain words", mime=HOSTILE_MIME)
        await daemon.ingest(odd.to_bytes())
        port = daemon.http_port
        secret = (tmp_path / "h" / "node.key").read_bytes()
        requests = []
        for value in CRLF_VALUES:
            quoted = urllib.parse.quote(value, safe="")
            requests += [get(f"/?lang={quoted}"), get(f"/works/{odd.work_id.hex()}?lang={quoted}"),
                         get("/", f"Cookie: lang={quoted}"), get("/", f"Accept-Language: {quoted}"),
                         get(f"/media/{odd.work_id.hex()}?x={quoted}")]
            boundary = "b0undary"
            body = (f'--{boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="{quoted}"\r\n'
                    f"Content-Type: {quoted}\r\n\r\nnot a bundle\r\n--{boundary}--\r\n").encode()
            requests.append(f"POST /upload?lang={quoted} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                            f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        statuses = []
        for request in requests:
            status, headers, _ = await raw_request(port, request)
            statuses.append(status)
            names = {name for name, _ in headers}
            assert "x-injected" not in names and "pwned" not in " ".join(v for _, v in headers)
            for name, value in headers:
                if name == "set-cookie":
                    assert value.split(";")[0] in ("lang=en", "lang=nl")
        assert max(statuses) < 500 and 200 in statuses
        status, headers, body = await raw_request(port, get(f"/media/{odd.work_id.hex()}"))
        assert status == 200 and dict(headers)["content-type"] == "application/octet-stream"
        assert body == odd.content
        for path in TRAVERSAL_PATHS:
            status, _, body = await raw_request(port, get(path))
            assert 400 <= status < 500, (path, status)
            assert secret not in body and b"SQLite format 3" not in body and b"root:x:0:0" not in body, path
