"""Captive-portal answers: portal until the visitor enters, then each OS's exact "online" reply."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.gallery.portal import APPLE_SUCCESS


async def test_android_and_windows_probes_redirect_to_welcome_first(client):
    for path in ("/generate_204", "/gen_204", "/connecttest.txt", "/ncsi.txt", "/success.txt"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 302, path
        assert response.headers["Location"] == "/welcome"


async def test_apple_probe_gets_the_welcome_page_not_success(client):
    for path in ("/hotspot-detect.html", "/library/test/success.html"):
        response = await client.get(path, headers={"Accept-Language": "en"})
        html = await response.text()
        assert response.status == 200
        assert "Success" not in html and "Enter the gallery" in html


async def test_after_entering_probes_answer_online(client):
    entered = await client.post("/welcome", allow_redirects=False)
    assert entered.status == 303 and entered.headers["Location"] == "/"
    assert (await client.get("/generate_204", allow_redirects=False)).status == 204
    assert (await client.get("/gen_204", allow_redirects=False)).status == 204
    assert await (await client.get("/hotspot-detect.html")).text() == APPLE_SUCCESS
    assert await (await client.get("/library/test/success.html")).text() == APPLE_SUCCESS
    assert await (await client.get("/connecttest.txt")).text() == "Microsoft Connect Test"
    assert await (await client.get("/ncsi.txt")).text() == "Microsoft NCSI"
    assert await (await client.get("/success.txt")).text() == "success\n"


@pytest.mark.parametrize("lang,button", [("en", "Enter the gallery"), ("nl", "Naar de galerie")])
async def test_welcome_page_is_translated_and_posts_to_itself(client, lang, button):
    html = await (await client.get(f"/welcome?lang={lang}")).text()
    assert '<form method="post" action="/welcome">' in html and button in html


async def test_portal_sends_phones_to_the_configured_gallery_url(ctx, make_client):
    async with make_client(replace(ctx, gallery_url="http://10.42.0.1/")) as client:
        probe = await client.get("/generate_204", allow_redirects=False)
        assert probe.headers["Location"] == "http://10.42.0.1/welcome"
        entered = await client.post("/welcome", allow_redirects=False)
        assert entered.headers["Location"] == "http://10.42.0.1/"
