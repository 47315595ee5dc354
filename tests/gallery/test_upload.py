"""Artist upload: verified before stored, size limit, clear error pages, keys refused."""

from __future__ import annotations

from dataclasses import replace

import aiohttp

from node.artwork import Endorsement, WorkMetadata, build_bundle
from node.artwork.keys import SECRET_TAG
from tests.factories import CREATED, artist_key, curator_key
from tests.gallery.artworks import image_work, poem_work


def _form(data: bytes, field: str = "bundle") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(field, data, filename="work.meshart", content_type="application/octet-stream")
    return form


async def test_upload_form_has_a_labelled_file_input(client):
    html = await (await client.get("/upload?lang=en")).text()
    assert '<label for="bundle">' in html and 'id="bundle" name="bundle" type="file"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "Never upload a key file" in html


async def test_good_bundle_is_verified_stored_and_shown(make_client, empty_ctx):
    ctx = empty_ctx
    bundle = image_work(7)
    async with make_client(ctx) as client:
        response = await client.post("/upload?lang=en", data=_form(bundle.to_bytes()), allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == f"/works/{bundle.work_id.hex()}?uploaded=1"
        assert ctx.store.is_complete(bundle.work_id)
        page = await (await client.get(response.headers["Location"] + "&lang=en")).text()
        assert "Your work was verified and stored." in page
        assert "uploaded here by the artist" in page
        assert bundle.signed.manifest.title["en"] in await (await client.get("/?lang=en")).text()


async def test_tampered_bundle_is_refused_and_not_stored(make_client, empty_ctx):
    ctx = empty_ctx
    data = bytearray(poem_work().to_bytes())
    data[-3] ^= 0x20  # flip a bit in the content
    async with make_client(ctx) as client:
        response = await client.post("/upload?lang=en", data=_form(bytes(data)))
        html = await response.text()
    assert response.status == 422
    assert "The content does not match its signed fingerprint." in html and "does not match its hash" in html
    assert 'role="alert"' in html
    assert ctx.store.work_ids() == []


async def test_garbage_and_key_files_are_refused(make_client, empty_ctx):
    ctx = empty_ctx
    async with make_client(ctx) as client:
        garbage = await client.post("/upload?lang=en", data=_form(b"not a bundle at all"))
        assert garbage.status == 422 and "The file is not a .meshart bundle." in await garbage.text()
        dutch = await client.post("/upload?lang=nl", data=_form(b"not a bundle at all"))
        assert "Het bestand is geen .meshart-bundel." in await dutch.text()
        key = await client.post("/upload?lang=en", data=_form(f"{SECRET_TAG} artist AAAA\n".encode()))
        assert key.status == 400 and "private key" in await key.text()
        missing = await client.post("/upload?lang=en", data=_form(b"x", field="other"))
        assert missing.status == 400 and "No file was chosen" in await missing.text()
        not_form = await client.post("/upload?lang=en", data=b"raw", headers={"Content-Type": "text/plain"})
        assert not_form.status == 400
    assert ctx.store.work_ids() == []


async def test_oversized_upload_is_413(make_client, empty_ctx):
    ctx = replace(empty_ctx, upload_limit_bytes=10_000)
    big = image_work(3, size=400)
    assert len(big.to_bytes()) > 10_000
    async with make_client(ctx) as client:
        response = await client.post("/upload?lang=nl", data=_form(big.to_bytes()))
        html = await response.text()
    assert response.status == 413
    assert "groter dan dit knooppunt accepteert (9 KiB)" in html
    assert ctx.store.work_ids() == []


async def test_cross_origin_post_is_refused(make_client, empty_ctx):
    ctx = empty_ctx
    async with make_client(ctx) as client:
        response = await client.post(
            "/upload?lang=en", data=_form(poem_work().to_bytes()), headers={"Origin": "http://evil.example"}
        )
        assert response.status == 403
        same = await client.post(
            "/upload", data=_form(poem_work().to_bytes()), allow_redirects=False,
            headers={"Origin": f"http://{client.host}:{client.port}"},
        )
        assert same.status == 303
    assert ctx.store.work_ids() == [poem_work().work_id]


async def test_store_refusal_is_shown_in_the_pages_language(make_client, empty_ctx):
    from node.store.base import QuotaExceeded

    async def full_ingest(data: bytes) -> bytes:
        raise QuotaExceeded("artist quota reached")

    async with make_client(replace(empty_ctx, ingest=full_ingest)) as client:
        response = await client.post("/upload?lang=en", data=_form(poem_work().to_bytes()))
        html = await response.text()
        nl = await (await client.post("/upload?lang=nl", data=_form(poem_work().to_bytes()))).text()
    assert response.status == 409 and "There is no room left" in html and "artist quota reached" in html
    assert "Er is op deze node geen ruimte meer" in nl


async def test_untrusted_curator_names_the_trusted_one_and_the_next_step(make_client, empty_ctx):
    stranger = curator_key("stranger")
    artist = artist_key("ada")
    endorsement = Endorsement.create(stranger, artist.public, "Ada Test", CREATED - 86400)
    meta = WorkMetadata(title={"en": "Stray"}, creator="Ada Test", year=2026, artform="poetry", medium="text",
                        license="https://creativecommons.org/licenses/by/4.0/")
    bundle = build_bundle(b"a poem", "text/plain", meta, artist, endorsement, CREATED)
    trusted = curator_key().public.fingerprint
    async with make_client(empty_ctx) as client:
        en = await client.post("/upload?lang=en", data=_form(bundle.to_bytes()))
        en_html = await en.text()
        nl_html = await (await client.post("/upload?lang=nl", data=_form(bundle.to_bytes()))).text()
    assert en.status == 422
    assert "a curator this node does not trust. This node trusts: " + trusted in en_html
    assert "Ask one of these curators to endorse your artist key" in en_html
    assert "Deze node vertrouwt: " + trusted in nl_html and "Vraag een van deze curatoren" in nl_html
    assert empty_ctx.store.work_ids() == []
