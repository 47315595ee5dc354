"""Publishing through the studio: budget re-encoding, cost and reach, warnings, signing, metadata rules."""

from __future__ import annotations

import io
import re

from aiohttp import FormData

from node.artwork.bundle import read_bundle
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.keys import PublicKey, SecretKey
from node.studio.folder import StudioFolder
from tests.gallery.artworks import wav_tone
from tests.studio.helpers import csrf_of, photo

PASS = "correct horse battery"


async def ready_artist(studio, tmp_path) -> tuple[str, SecretKey]:
    """An artist key made in the studio and endorsed by a curator; returns the CSRF token."""
    token = csrf_of(await (await studio.get("/keys")).text())
    await studio.post("/keys/artist/create", data={"csrf": token, "passphrase": PASS, "passphrase2": PASS})
    curator = SecretKey.generate("curator")
    artist = StudioFolder(tmp_path / "home").public_key("artist")
    endorsement = Endorsement.create(curator, artist, "Ada Bakker", 1_700_000_000)
    form = FormData({"csrf": token})
    form.add_field("endorsement", io.BytesIO(endorsement.to_bytes()), filename="a.endorsement")
    assert (await studio.post("/endorsement/import", data=form, allow_redirects=False)).status == 303
    return token, curator


async def drop(studio, token: str, name: str, data: bytes) -> str:
    form = FormData({"csrf": token})
    form.add_field("work", io.BytesIO(data), filename=name)
    answer = await studio.post("/publish", data=form, allow_redirects=False)
    assert answer.status == 303
    return answer.headers["Location"]


async def test_budget_reencodes_and_shows_cost_and_reach(studio, tmp_path):
    token, curator = await ready_artist(studio, tmp_path)
    draft = await drop(studio, token, "harbour.png", photo())
    page = await (await studio.get(draft + "?budget=16")).text()
    size = int(re.search(r'data-size="(\d+)"', page).group(1))
    assert 12 * 1024 < size <= 16 * 1024
    assert "Re-encoded as WebP" in page and "MEDIUM_FAST" in page and "the exhibition&#39;s" in page
    reach = re.search(r"<dd data-reach>(.*?)</dd>", page, re.S).group(1)
    assert "simulated: 4 venues of amsterdam, MEDIUM_FAST" in reach
    assert re.search(r"<strong>(\d+ min \d+ s|\d+\.\d s)</strong>", reach)
    fragment = await (await studio.get(draft + "/cost?budget=2")).text()
    assert fragment.lstrip().startswith('<div id="cost"') and "<html" not in fragment
    small = int(re.search(r'data-size="(\d+)"', fragment).group(1))
    assert small <= 2 * 1024 < size
    assert 'data-warning="warn_tiny"' in fragment  # a 2 KiB picture is a thumbnail: say so
    image = await studio.get(draft + "/content?budget=2")
    assert image.headers["Content-Type"] == "image/webp" and len(await image.read()) == small
    assert "sandbox" in image.headers["Content-Security-Policy"]

    values = {"csrf": token, "budget": "16", "title_en": "Harbour", "title_nl": "Haven", "description_en": "",
              "description_nl": "", "alt_en": "", "alt_nl": "", "creator": "Ada Bakker", "year": "2026",
              "artform": "digital image", "medium": "pixels", "license": "https://creativecommons.org/licenses/by/4.0/",
              "attribution": "", "origin": ""}
    no_alt = await studio.post(draft + "/sign", data=values)
    assert no_alt.status == 400 and "Describe the image in the alt text" in await no_alt.text()
    bad_licence = await studio.post(draft + "/sign", data={**values, "alt_en": "Bands", "license": "all rights"})
    assert bad_licence.status == 400 and "Choose a licence" in await bad_licence.text()
    signed = await studio.post(draft + "/sign", data={**values, "alt_en": "Bands of colour"}, allow_redirects=False)
    assert signed.status == 303
    saved = await studio.get(signed.headers["Location"] + ".meshart")
    assert "attachment" in saved.headers["Content-Disposition"]
    bundle = read_bundle(await saved.read(), TrustAnchors([curator.public]))
    m = bundle.signed.manifest
    assert m.size == size and m.mime == "image/webp" and m.title == {"en": "Harbour", "nl": "Haven"}
    assert m.license == "https://creativecommons.org/licenses/by/4.0/" and m.preview is not None
    assert PublicKey(m.artist).raw == StudioFolder(tmp_path / "home").public_key("artist").raw


async def test_an_expensive_sound_is_flagged(studio, tmp_path):
    token, _ = await ready_artist(studio, tmp_path)
    draft = await drop(studio, token, "drone.wav", wav_tone(seconds=24.0))  # ~190 KiB of 8-bit PCM
    page = await (await studio.get(draft)).text()
    assert 'data-warning="expensive"' in page
    assert "of a node&#39;s hourly allowance" in page
    assert "budget" not in re.search(r"<h1>.*?</section>", page, re.S).group(0).split("cost-h")[0]  # no slider


async def test_a_file_over_the_limit_that_cannot_be_reencoded(studio, tmp_path):
    token, _ = await ready_artist(studio, tmp_path)
    draft = await drop(studio, token, "long.wav", wav_tone(seconds=40.0))
    page = await (await studio.get(draft)).text()
    assert "only images can be re-encoded" in page


async def test_an_expired_endorsement_is_shown_and_blocks_signing(studio, tmp_path):
    token = csrf_of(await (await studio.get("/keys")).text())
    await studio.post("/keys/artist/create", data={"csrf": token, "passphrase": PASS, "passphrase2": PASS})
    artist = StudioFolder(tmp_path / "home").public_key("artist")
    old = Endorsement.create(SecretKey.generate("curator"), artist, "Ada", 1_600_000_000, 1_700_000_000)
    form = FormData({"csrf": token})
    form.add_field("endorsement", io.BytesIO(old.to_bytes()), filename="old.endorsement")
    await studio.post("/endorsement/import", data=form)
    page = await (await studio.get("/endorsement")).text()
    assert 'data-endorsement-state="expired"' in page and "expired on 2023-11-14" in page
    assert "expired" in await (await studio.get("/")).text()
    draft = await drop(studio, token, "poem.txt", b"de radio fluistert\n")
    refused = await studio.post(draft + "/sign", data={"csrf": token, "title_en": "Poem", "creator": "Ada",
                                                       "year": "2026",
                                                       "license": "https://creativecommons.org/licenses/by/4.0/"})
    assert refused.status == 400 and "Your endorsement has expired" in await refused.text()
