"""The HTML pages through the aiohttp test client: content, languages, escaping, errors."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from aiohttp.test_utils import TestClient, TestServer

from node.artwork.keys import fingerprint
from node.daemon.peers import HeardPeers
from node.gallery.app import create_app
from node.protocol.events import PeerStatus
from tests.factories import make_bundle
from tests.gallery.artworks import VENUE_NAMES, work_bundle
from tests.gallery.node import NEMO, running_nodes, seed_store


def beacon(venue: str, key: bytes, lat: float | None, lon: float | None, *, airtime_permille: int = 20,
           snr: float | None = 4.0) -> PeerStatus:
    """A verified beacon as the engine reports it."""
    return PeerStatus(node_key=key, venue=venue, lat=lat, lon=lon, version="0.1.0", uptime_s=60,
                      airtime_permille=airtime_permille, works_held=3, link="lora", snr=snr, rssi=-100.0)


ANCHOR = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


async def test_works_page_lists_every_work_with_title_artist_and_origin(client, works):
    response = await client.get("/", headers={"Accept-Language": "en"})
    assert response.status == 200
    html = await response.text()
    for bundle in [*works.complete(), works.partial]:
        m = bundle.signed.manifest
        assert f'href="/works/{bundle.work_id.hex()}"' in html
        assert m.title["en"] in html
        assert m.creator in html
        if m.origin:
            assert f"from {VENUE_NAMES[m.origin]}" in html
            assert f"from {m.origin}<" not in html  # never the raw venue id
    assert '<html lang="en">' in html


async def test_partial_work_shows_its_received_share_and_preview(client, works):
    html = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    card = html[html.index(f'id="w-{works.partial.work_id.hex()}"'):]
    card = card[: card.index("</li>")]
    total = works.partial.signed.manifest.chunk_count
    assert f'max="{total}" value="{works.partial_chunks}"' in card
    assert f"{100 * works.partial_chunks // total}% received" in card
    assert f'src="/preview/{works.partial.work_id.hex()}"' in card


async def test_complete_image_card_uses_the_image_and_its_alt_text(client, works):
    html = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    image = works.images[0]
    assert f'src="/media/{image.work_id.hex()}" alt="{image.signed.manifest.alt["en"]}"' in html


async def test_language_from_accept_language_query_and_cookie(client, works):
    nl = await (await client.get("/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.8"})).text()
    assert '<html lang="nl">' in nl and "Werken" in nl and works.images[0].signed.manifest.title["nl"] in nl
    response = await client.get("/about?lang=en", headers={"Accept-Language": "nl"})
    assert '<html lang="en">' in await response.text()
    assert response.cookies["lang"].value == "en"
    # the cookie now outranks Accept-Language
    again = await (await client.get("/network", headers={"Accept-Language": "nl"})).text()
    assert '<html lang="en">' in again
    assert 'href="/network?lang=nl" hreflang="nl" lang="nl"' in again


async def test_unsupported_language_falls_back_to_english(client):
    html = await (await client.get("/", headers={"Accept-Language": "de-DE,fr;q=0.5"})).text()
    assert '<html lang="en">' in html


async def test_fallback_text_is_marked_with_its_own_language(ctx):
    only_english = work_bundle(b"hello", "text/plain", title={"en": "Only English"})
    ctx.store.ingest_bundle(only_english)
    async with TestClient(TestServer(create_app(ctx))) as client:
        html = await (await client.get(f"/works/{only_english.work_id.hex()}?lang=nl")).text()
    assert '<h1 lang="en">Only English</h1>' in html
    assert '<html lang="nl">' in html


async def test_image_work_page_has_metadata_attribution_and_provenance(client, works):
    image = works.images[1]
    m = image.signed.manifest
    response = await client.get(f"/works/{image.work_id.hex()}", headers={"Accept-Language": "en"})
    html = await response.text()
    assert f'<img src="/media/{image.work_id.hex()}" alt="{m.alt["en"]}" lang="en"' in html
    for value in (m.artform, m.medium, str(m.year), VENUE_NAMES[m.origin], m.mime, image.work_id.hex()):
        assert value in html
    assert f"<dd>{m.origin}</dd>" not in html
    # TASL: title, author, source, licence (with rel=license to the canonical URI)
    assert f'<cite lang="en">{m.title["en"]}</cite>' in html
    assert f'<a rel="license" href="{m.license}">CC BY-SA 4.0</a>' in html
    assert f"<q>{m.attribution}</q>" in html
    assert fingerprint(m.artist) in html and fingerprint(m.endorsement.curator) in html
    assert "Signatures verified on this node." in html
    assert "The whole file matches its signed SHA-256 hash." in html


async def test_work_not_verifying_against_local_trust_is_flagged(ctx, make_client):
    rogue = make_bundle(300, "rogue")  # endorsed by the test curator...
    ctx.store.ingest_bundle(rogue)
    from node.artwork import TrustAnchors

    async with make_client(replace(ctx, trust=TrustAnchors([]))) as client:  # ...whom this node does not trust
        html = await (await client.get(f"/works/{rogue.work_id.hex()}?lang=en")).text()
    assert "do not verify" in html and "Signatures verified" not in html


async def test_jsonld_is_a_visual_artwork(client, works):
    image = works.images[0]
    m = image.signed.manifest
    html = await (await client.get(f"/works/{image.work_id.hex()}")).text()
    doc = json.loads(ANCHOR.search(html).group(1))
    assert doc["@type"] == "VisualArtwork"
    assert {"@language": "nl", "@value": m.title["nl"]} in doc["name"]
    assert doc["creator"] == {"@type": "Person", "name": m.creator}
    assert doc["license"] == m.license and doc["artform"] == m.artform and doc["artMedium"] == m.medium
    assert doc["associatedMedia"]["encodingFormat"] == "image/jpeg"
    assert doc["associatedMedia"]["contentUrl"].endswith(f"/media/{image.work_id.hex()}")
    assert doc["identifier"] == f"urn:sha256:{image.work_id.hex()}"


async def test_text_audio_and_svg_works_are_presented_by_type(client, works):
    poem = await (await client.get(f"/works/{works.poem.work_id.hex()}")).text()
    assert '<div class="poem"' in poem and "van dak tot dak\nstukje voor stukje" in poem
    audio = await (await client.get(f"/works/{works.audio.work_id.hex()}")).text()
    assert f'<audio controls preload="metadata" src="/media/{works.audio.work_id.hex()}">' in audio
    svg = await (await client.get(f"/works/{works.svg.work_id.hex()}")).text()
    assert f'<img src="/media/{works.svg.work_id.hex()}"' in svg
    assert "<svg" not in svg and "__svgRan" not in svg


async def test_partial_progressive_image_page_shows_received_prefix(client, works):
    html = await (await client.get(f"/works/{works.partial.work_id.hex()}?lang=en")).text()
    n = works.partial_chunks
    assert f'src="/media/{works.partial.work_id.hex()}/prefix?n={n}"' in html
    assert 'data-complete="no"' in html and 'data-prefix="yes"' in html
    assert '<span data-percent aria-live="polite" aria-atomic="true">' in html  # announced as it fills in
    assert f"{n} of {works.partial.signed.manifest.chunk_count} pieces received" in html


async def test_script_and_handler_payloads_are_escaped_in_every_field(works, tmp_path, make_client):
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'</script>'
    hostile = work_bundle(
        b"\x89PNG not really", "image/png",
        title={"en": "T" + payload, "nl": "N" + payload}, creator="C" + payload, origin="O" + payload,
        description={"en": "D" + payload, "nl": "D" + payload}, alt={"en": "A" + payload, "nl": "A" + payload},
        artform="F" + payload, medium="M" + payload, attribution="B" + payload,
    )
    seed_store(tmp_path / NEMO.id, [hostile])
    async with running_nodes(tmp_path, [NEMO]) as nodes, make_client(nodes[NEMO.id].gallery_context()) as client:
        for path in ("/", f"/works/{hostile.work_id.hex()}", f"/cards/{hostile.work_id.hex()}"):
            html = await (await client.get(path)).text()
            assert "<script>alert" not in html and "<img src=x" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        html = await (await client.get(f"/works/{hostile.work_id.hex()}")).text()
        ld_text = ANCHOR.search(html).group(1)
        assert "</script" not in ld_text and "<" not in ld_text
        assert json.loads(ld_text)["creator"]["name"] == "C" + payload


async def test_works_page_stays_under_50_kb_with_200_works(tmp_path, make_client):
    seed_store(tmp_path / NEMO.id, [make_bundle(300, f"w{index:03}", mime="image/jpeg") for index in range(200)])
    async with running_nodes(tmp_path, [NEMO]) as nodes, make_client(nodes[NEMO.id].gallery_context()) as client:
        store = nodes[NEMO.id].store
        response = await client.get("/", headers={"Accept-Encoding": "identity"})
        body = await response.read()
        assert response.status == 200 and "Content-Encoding" not in response.headers
        assert len(body) < 50 * 1024
        seen = set()
        for page in range(1, 6):
            reply = await client.get(f"/?page={page}")
            if reply.status == 404:
                break
            seen |= set(re.findall(r'href="/works/([0-9a-f]{64})"', await reply.text()))
        assert seen == {w.hex() for w in store.work_ids()}
        assert (await client.get("/?page=99")).status == 404
        assert (await client.get("/?page=zero")).status == 404


async def test_gzip_is_served_when_accepted(client):
    response = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "<html" in await response.text()  # the client decompresses


async def test_card_fragment_is_one_list_item(client, works):
    html = await (await client.get(f"/cards/{works.poem.work_id.hex()}")).text()
    assert html.strip().startswith("<li") and html.strip().endswith("</li>")
    assert works.poem.signed.manifest.creator in html


async def test_network_page_pages_through_many_peers(ctx, make_client):
    table = HeardPeers()  # the daemon's own table of nodes heard
    for i in range(1, 121):
        for _ in range(2):  # a second fresh beacon moves a node past probation
            table.heard(beacon(f"venue {i:03d}", bytes([i]) * 32, 52.37 + i / 1000, 4.9), 1_790_000_000.0)
    async with make_client(replace(ctx, peers=table.records)) as client:
        pages = [await (await client.get(f"/network?page={n}&lang=en")).text() for n in (1, 2, 3)]
        assert (await client.get("/network?page=4")).status == 404
        assert (await client.get("/network?page=0")).status == 404
        assert (await client.get("/network?page=x")).status == 404
    listed = [re.findall(r'<th scope="row">(venue \d{3})<br>', page) for page in pages]
    assert [len(names) for names in listed] == [50, 50, 20]
    assert [name for names in listed for name in names] == [f"venue {i:03d}" for i in range(1, 121)]
    assert 'href="/network?page=2" rel="next"' in pages[0] and 'rel="next"' not in pages[2]
    assert pages[1].count('class="peer ') == 50  # the map shows the page's peers only


async def test_airtime_over_the_duty_cycle_limit_is_flagged(ctx, make_client):
    table = HeardPeers()
    table.heard(beacon("waag", b"\x01" * 32, 52.37275, 4.90026, airtime_permille=42, snr=6.0), 1_790_000_000.0)
    table.heard(beacon("zwijger", b"\x02" * 32, 52.3765, 4.92232, airtime_permille=120, snr=-14.5), 1_790_000_000.0)
    async with make_client(replace(ctx, peers=table.records)) as client:
        html = await (await client.get("/network?lang=en")).text()
    assert "4.2% of the 10.0% limit" in html and "over the limit" in html
    assert "good signal" in html and "weak signal" in html
    assert "Waag Futurelab" in html and "Pakhuis de Zwijger" in html  # names, never the beacons' ids


async def test_network_page_without_peers(client):
    html = await (await client.get("/network?lang=nl")).text()
    assert "Nog geen andere knooppunten gehoord." in html


async def test_about_page_with_and_without_channel_qr(ctx, make_client):
    async with make_client(ctx) as client:
        page = await (await client.get("/about?lang=en")).text()
        assert "/about/channel.svg" not in page and "Scan this code" not in page  # no code, no talk of one
        assert (await client.get("/about/channel.svg")).status == 404
    qr = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>'
    async with make_client(replace(ctx, channel_qr_svg=qr)) as client:
        html = await (await client.get("/about?lang=en")).text()
        assert '<img class="qr" src="/about/channel.svg"' in html and "Meshtastic" in html
        qr = await client.get("/about/channel.svg")
        assert qr.headers["Content-Type"] == "image/svg+xml" and "sandbox" in qr.headers["Content-Security-Policy"]


async def test_a_stored_work_with_an_out_of_range_time_is_shown_safely(ctx, make_client):
    # stored before verification refused such times: the page answers, with "?" for the date
    from node.artwork.manifest import parse_manifest

    far = work_bundle(b"far future", "text/plain", title={"en": "Far future"}, created=10**15)
    signed = parse_manifest(far.signed.raw)
    ctx.store.put_manifest(signed)
    for index, piece in enumerate(far.chunks()):
        ctx.store.put_chunk(far.work_id, index, piece)
    async with make_client(ctx) as client:
        page = await client.get(f"/works/{far.work_id.hex()}?lang=en")
        html = await page.text()
        assert (await client.get("/?lang=en")).status == 200
    assert page.status == 200 and "Far future" in html and "<dd>?</dd>" in html
