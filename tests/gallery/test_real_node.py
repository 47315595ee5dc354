"""The gallery on real daemons: beacons heard over a bus, arrivals, a restart, venue names.

Every context here is ``NodeDaemon.gallery_context()`` with the real engine and SQLite store;
the other venues are daemons too, heard through their signed beacons.
"""

from __future__ import annotations

import re
import time

from aiohttp.test_utils import TestClient, TestServer

from node.gallery.app import create_app
from node.gallery.netmap import VIEW_W
from tests.factories import make_bundle
from tests.gallery.artworks import VENUE_NAMES, image_work, poem_work
from tests.gallery.node import NEMO, WAAG, ZWIJGER, running_nodes, seed_store, wait_for

LABEL = re.compile(r'<text class="label[^"]*" x="([\d.]+)" y="[\d.]+" text-anchor="(start|end)">([^<]+)</text>')
CHAR_W = 12.0  # generous width of one 19 px bold character in SVG units


def client_for(daemon) -> TestClient:
    return TestClient(TestServer(create_app(daemon.gallery_context())))


async def test_network_page_shows_venues_heard_with_you_are_here_lines_and_last_heard(tmp_path):
    async with running_nodes(tmp_path, [NEMO, WAAG, ZWIJGER], linked=True) as nodes:
        nemo = nodes[NEMO.id]
        await wait_for(lambda: len(nemo.heard_peers()) == 2)
        async with client_for(nemo) as client:
            html = await (await client.get("/network?lang=en")).text()
        fingerprints = {v: nodes[v].identity.public.fingerprint for v in (WAAG.id, ZWIJGER.id)}
    svg = html[html.index("<svg"): html.index("</svg>")]
    assert svg.count("data-you-are-here") == 1 and "You are here" in svg
    lines = re.findall(r'<line class="link (q-\w+)"', svg)
    assert sorted(lines) == ["q-good", "q-weak"]  # Waag at +6 dB, De Zwijger at -14.5 dB, both heard directly
    assert svg.count('class="peer ') == 2
    for name in ("Waag Futurelab", "Pakhuis de Zwijger"):
        assert name in svg and name in html
    assert ">waag<" not in html and ">zwijger<" not in html  # never raw venue ids
    for fp in fingerprints.values():
        assert f'<code class="fp">{fp}</code>' in html  # the peers' own node keys
    heard = re.findall(r"<td data-label=\"Last heard\" data-heard>([^<]+)</td>", html)
    assert len(heard) == 2 and all(text.endswith("s ago") for text in heard)
    assert 'class="scale"' in svg and 'class="north"' in svg
    labels = LABEL.findall(svg)
    assert {text for _, _, text in labels} == {"Waag Futurelab", "Pakhuis de Zwijger", "You are here"}
    for x, anchor, text in labels:
        width = len(text) * CHAR_W
        if anchor == "start":
            assert float(x) + width <= VIEW_W, text
        else:
            assert float(x) - width >= 0, text


async def test_work_page_shows_when_and_how_a_work_arrived(tmp_path):
    poem = poem_work(7)
    async with running_nodes(tmp_path, [NEMO, WAAG], linked=True) as nodes:
        nemo, waag = nodes[NEMO.id], nodes[WAAG.id]
        before = time.time()
        await waag.ingest(poem.to_bytes())
        await wait_for(lambda: nemo.store.is_complete(poem.work_id), timeout=30)
        async with client_for(nemo) as client:
            html = await (await client.get(f"/works/{poem.work_id.hex()}?lang=en")).text()
            nl = await (await client.get(f"/works/{poem.work_id.hex()}?lang=nl")).text()
        stored = nemo.store.summary(poem.work_id).received_at
    assert before - 1 <= stored <= time.time()  # the store's wall clock, not the engine's monotonic one
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stored))
    assert f"stored on this node on {when}, over mem" in html
    assert f"op deze node opgeslagen op {when}" in nl
    assert "Venue of origin" in html and f"<dd>{VENUE_NAMES['oba']}</dd>" in html


async def test_newest_first_holds_across_a_restart(tmp_path):
    old = [image_work(seed) for seed in range(2)]
    stamps = iter([1_790_000_000.0, 1_790_000_060.0])  # stored long before this run
    seed_store(tmp_path / NEMO.id, old, clock=lambda: next(stamps))
    first, second = make_bundle(400, "before-reboot", mime="text/plain"), make_bundle(400, "after-reboot",
                                                                                      mime="text/plain")
    async with running_nodes(tmp_path, [NEMO, WAAG], linked=True) as nodes:
        await nodes[NEMO.id].ingest(first.to_bytes())
    async with running_nodes(tmp_path, [NEMO, WAAG], linked=True) as nodes:  # a reboot: new engines, same stores
        await nodes[NEMO.id].ingest(second.to_bytes())
        async with client_for(nodes[NEMO.id]) as client:
            html = await (await client.get("/?lang=en")).text()
    order = re.findall(r'id="w-([0-9a-f]{64})"', html)
    assert order == [second.work_id.hex(), first.work_id.hex(), old[1].work_id.hex(), old[0].work_id.hex()]


async def test_cards_and_work_pages_name_venues_never_ids(client, works):
    html = await (await client.get("/?lang=en")).text()
    for bundle in works.complete():
        origin = bundle.signed.manifest.origin
        assert f"from {VENUE_NAMES[origin]}" in html
    page = await (await client.get(f"/works/{works.poem.work_id.hex()}?lang=nl")).text()
    assert "<dd>OBA Oosterdok</dd>" in page and "<dd>oba</dd>" not in page
    assert '"locationCreated":{"@type":"Place","name":"OBA Oosterdok"}' in page


async def test_header_names_the_venue_once(client):
    html = await (await client.get("/?lang=en")).text()
    header = html[html.index('<header class="site">'): html.index("</header>")]
    assert header.count("NEMO Science Museum") == 1 and "Mesh Art Node NEMO" not in header
    assert 'aria-label="Nederlands: deze pagina in het Nederlands"' in header


async def test_welcome_shows_the_newest_work_with_the_exhibitions_title(client, works):
    html = await (await client.get("/welcome?lang=en")).text()
    assert "Art over the air" in html and "Welcome to the Mesh Art Network" in html
    # the newest work is the one still arriving: its signed preview, with its share received
    assert f'data-work="{works.partial.work_id.hex()}"' in html
    assert f'src="/preview/{works.partial.work_id.hex()}"' in html and "Arriving now" in html


async def test_text_tile_and_audio_waveform(client, works):
    html = await (await client.get("/?lang=en")).text()
    poem_card = html[html.index(f'id="w-{works.poem.work_id.hex()}"'):]
    poem_card = poem_card[: poem_card.index("</li>")]
    assert '<p class="tile tile-text"' in poem_card and "De radio fluistert\nvan dak tot dak" in poem_card
    audio_card = html[html.index(f'id="w-{works.audio.work_id.hex()}"'):]
    assert f'src="/waveform/{works.audio.work_id.hex()}"' in audio_card[: audio_card.index("</li>")]
    page = await (await client.get(f"/works/{works.audio.work_id.hex()}?lang=en")).text()
    assert 'class="waveform"' in page and "over its 0.5 seconds" in page and "<audio controls" in page
    png = await client.get(f"/waveform/{works.audio.work_id.hex()}")
    assert png.status == 200 and png.headers["Content-Type"] == "image/png"
    assert (await png.read()).startswith(b"\x89PNG")
    assert (await client.get(f"/waveform/{works.poem.work_id.hex()}")).status == 404


async def test_an_audio_works_waveform_is_drawn_once_when_it_arrives(tmp_path):
    from node.gallery.state import STATE
    from tests.gallery.artworks import audio_work

    sound = audio_work()
    async with running_nodes(tmp_path, [NEMO, WAAG], linked=True) as nodes:
        app = create_app(nodes[NEMO.id].gallery_context())
        async with TestClient(TestServer(app)) as client:
            waveforms = app[STATE].waveforms
            await nodes[WAAG.id].ingest(sound.to_bytes())
            await wait_for(lambda: sound.work_id in waveforms._drawn, timeout=30)  # drawn on completion
            drawn = waveforms._drawn[sound.work_id]
            assert drawn is not None and drawn.seconds == 0.5
            first = await (await client.get(f"/waveform/{sound.work_id.hex()}")).read()
            assert first == drawn.png and waveforms.render(sound.work_id) is drawn  # cached, not redrawn
