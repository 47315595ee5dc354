"""CSRF, loopback-only host names and bind addresses, security headers, locked keys."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.cli import main
from node.studio.app import create_app
from node.studio.serve import BindRefused, check_bind_host, start_studio
from tests.studio.helpers import csrf_of, settings_for

PASS = "correct horse battery"


async def test_a_post_without_the_token_is_refused_and_changes_nothing(studio, tmp_path):
    page = await studio.get("/keys")
    token = csrf_of(await page.text())
    form = {"passphrase": PASS, "passphrase2": PASS}
    for bad in ({}, {"csrf": "x" + token[1:]}, {"csrf": ""}):
        refused = await studio.post("/keys/artist/create", data={**form, **bad}, allow_redirects=False)
        assert refused.status == 403
        assert "out of date or came from another site" in await refused.text()
    assert not (tmp_path / "home" / "artist.key").exists()
    cross = await studio.post("/keys/artist/create", data={**form, "csrf": token}, allow_redirects=False,
                              headers={"Origin": "http://evil.example"})
    assert cross.status == 403
    assert not (tmp_path / "home" / "artist.key").exists()
    done = await studio.post("/keys/artist/create", data={**form, "csrf": token}, allow_redirects=False)
    assert done.status == 303
    assert (tmp_path / "home" / "artist.key").read_text().startswith("mesh-art-sealed-v1 artist ")


async def test_a_post_from_a_browser_without_a_session_is_refused(tmp_path):
    async with TestClient(TestServer(create_app(settings_for(tmp_path)))) as fresh:
        response = await fresh.post("/keys/artist/create", data={"csrf": "guess", "passphrase": PASS,
                                                                 "passphrase2": PASS})
        assert response.status == 403
    assert not (tmp_path / "artist.key").exists()


async def test_other_host_names_get_nothing(studio):
    for host in ("evil.example", "192.168.1.20:8765", "mesh-art.local"):
        response = await studio.get("/keys", headers={"Host": host})
        assert response.status == 421
        assert "127.0.0.1" in await response.text()
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert (await studio.get("/", headers={"Host": host})).status == 200


async def test_strict_headers_on_every_page(studio):
    response = await studio.get("/publish")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "form-action 'self'" in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_bind_addresses():
    assert check_bind_host("127.0.0.1", False) == "127.0.0.1"
    assert check_bind_host("localhost", False) == "127.0.0.1"
    assert check_bind_host("::1", False) == "::1"
    for host in ("0.0.0.0", "192.168.1.20", "::", "example.org"):
        with pytest.raises(BindRefused):
            check_bind_host(host, False)
    assert check_bind_host("0.0.0.0", True) == "0.0.0.0"


async def test_the_server_refuses_to_listen_beyond_loopback(tmp_path):
    with pytest.raises(BindRefused, match=r"127\.0\.0\.1 only"):
        await start_studio(settings_for(tmp_path), "0.0.0.0", 0)
    runner, url = await start_studio(settings_for(tmp_path), "127.0.0.1", 0)
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0/")
    finally:
        await runner.cleanup()


def test_the_command_refuses_a_public_address(capsys, tmp_path):
    assert main(["studio", "--home", str(tmp_path), "--host", "0.0.0.0", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "127.0.0.1 only" in err and "--allow-remote" in err


async def test_a_locked_key_asks_for_its_passphrase_once_per_session(tmp_path):
    settings = settings_for(tmp_path)
    app = create_app(settings)
    async with TestClient(TestServer(app)) as first:
        token = csrf_of(await (await first.get("/keys")).text())
        await first.post("/keys/artist/create", data={"csrf": token, "passphrase": PASS, "passphrase2": PASS})
    async with TestClient(TestServer(create_app(settings))) as later:  # a new session (and server)
        token = csrf_of(await (await later.get("/endorsement")).text())
        form = {"csrf": token, "name": "Ada Bakker", "contact": "ada@example.org"}
        asked = await later.post("/endorsement/request", data=form)
        assert asked.status == 400 and "Type the key&#39;s passphrase" in await asked.text()
        wrong = await later.post("/endorsement/request", data={**form, "passphrase": "not it at all"})
        assert wrong.status == 400 and "Wrong passphrase" in await wrong.text()
        assert not (tmp_path / "artist.meshart-request").exists()
        right = await later.post("/endorsement/request", data={**form, "passphrase": PASS}, allow_redirects=False)
        assert right.status == 303
        page = await (await later.get("/endorsement")).text()
        assert 'name="passphrase"' not in page  # unlocked for the rest of the session: not asked again
        again = await later.post("/endorsement/request", data={**form, "name": "Ada B."}, allow_redirects=False)
        assert again.status == 303
        lock = await later.post("/keys/artist/lock", data={"csrf": token}, allow_redirects=False)
        assert lock.status == 303
        assert (await later.post("/endorsement/request", data=form)).status == 400
