"""Curator takedowns signed in the studio verify as `mesh-art ingest-takedown` checks them."""

from __future__ import annotations

import io

from aiohttp import FormData

from node.artwork.endorsement import TrustAnchors
from node.artwork.takedown import verify_takedown
from node.studio.folder import StudioFolder
from tests.factories import make_bundle
from tests.studio.helpers import csrf_of

PASS = "correct horse battery"


async def test_takedown_by_id_and_by_bundle(studio, tmp_path):
    token = csrf_of(await (await studio.get("/keys")).text())
    await studio.post("/keys/curator/create", data={"csrf": token, "passphrase": PASS, "passphrase2": PASS})
    curator = StudioFolder(tmp_path / "home").public_key("curator")
    bad = await studio.post("/curator/takedown", data={"csrf": token, "work": "abc123", "reason": "x"})
    assert bad.status == 400 and "64 hexadecimal digits" in await bad.text()
    work_id = bytes(range(32))
    signed = await studio.post("/curator/takedown", data={"csrf": token, "work": work_id.hex(),
                                                          "reason": "withdrawn"}, allow_redirects=False)
    assert signed.status == 303
    takedown = verify_takedown(await (await studio.get("/curator/takedown.takedown")).read(),
                               TrustAnchors([curator]))
    assert takedown.work_id == work_id and takedown.reason == "withdrawn"
    bundle = make_bundle(800, "takedown-me")
    form = FormData({"csrf": token, "work": "", "reason": ""})
    form.add_field("bundle", io.BytesIO(bundle.to_bytes()), filename="w.meshart")
    assert (await studio.post("/curator/takedown", data=form, allow_redirects=False)).status == 303
    takedown = verify_takedown(await (await studio.get("/curator/takedown.takedown")).read(),
                               TrustAnchors([curator]))
    assert takedown.work_id == bundle.work_id
