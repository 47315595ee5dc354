"""The CLI and the studio read each other's files: keys (plain and sealed), requests, endorsements."""

from __future__ import annotations

import io

import pytest
from aiohttp import FormData

from node.artwork.bundle import read_bundle
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.keys import load_public
from node.cli import main
from node.studio.folder import StudioFolder
from tests.studio.helpers import csrf_of, photo

PASS = "correct horse battery"


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv("MESH_ART_PASSPHRASE", PASS)


async def _token(studio, path="/keys") -> str:
    return csrf_of(await (await studio.get(path)).text())


async def test_studio_files_drive_the_cli(studio, tmp_path, passphrase, capsys):
    """Key, request and endorsement made in studios; the CLI endorses and publishes with them."""
    home = tmp_path / "home"
    token = await _token(studio)
    for role in ("artist", "curator"):
        made = await studio.post(f"/keys/{role}/create", data={"csrf": token, "passphrase": PASS,
                                                               "passphrase2": PASS}, allow_redirects=False)
        assert made.status == 303
    await studio.post("/endorsement/request", data={"csrf": token, "name": "Ada Bakker", "contact": "ada@x.nl"})
    request_file = home / "artist.meshart-request"
    assert request_file.exists()
    endorsement_file = tmp_path / "ada.endorsement"
    assert main(["keys", "endorse", "--curator", str(home / "curator.key"), "--request", str(request_file),
                 "--valid-until", "2099-12-31", "--out", str(endorsement_file)]) == 0
    assert "Ada Bakker" in capsys.readouterr().out
    image = tmp_path / "harbour.png"
    image.write_bytes(photo(300, 200))
    bundle_file = tmp_path / "harbour.meshart"
    assert main(["publish", str(image), "--key", str(home / "artist.key"), "--endorsement", str(endorsement_file),
                 "--title", "Harbour", "--alt", "Bands of colour", "--license", "cc-by-4",
                 "--budget", "12KiB", "--out", str(bundle_file)]) == 0
    curator = load_public(str(home / "curator.key.pub"))
    bundle = read_bundle(bundle_file.read_bytes(), TrustAnchors([curator]))
    assert bundle.signed.manifest.creator == "Ada Bakker"
    assert bundle.signed.manifest.artist == load_public(str(home / "artist.key.pub")).raw


async def test_cli_files_drive_the_studio(studio, tmp_path, passphrase):
    """Keys from `keys new` (plain and --encrypt) import; the CLI's request and endorsement are read."""
    cli = tmp_path / "cli"
    cli.mkdir()
    assert main(["keys", "new", "--role", "artist", "--out", str(cli / "ada.key"), "--encrypt"]) == 0
    assert main(["keys", "new", "--role", "curator", "--out", str(cli / "cur.key")]) == 0  # plain, as today
    token = await _token(studio)
    for role, name, old in (("artist", "ada.key", PASS), ("curator", "cur.key", "")):
        form = FormData({"csrf": token, "old_passphrase": old, "passphrase": "a new studio pass",
                         "passphrase2": "a new studio pass"})
        form.add_field("keyfile", io.BytesIO((cli / name).read_bytes()), filename=name)
        answer = await studio.post(f"/keys/{role}/import", data=form, allow_redirects=False)
        assert answer.status == 303, await answer.text()
    folder = StudioFolder(tmp_path / "home")
    assert folder.public_key("artist").raw == load_public(str(cli / "ada.key.pub")).raw
    assert folder.public_key("curator").raw == load_public(str(cli / "cur.key.pub")).raw
    assert folder.is_sealed("curator")  # the plain CLI key is now sealed in the studio's folder
    assert not list((tmp_path / "home").glob(".import-*"))

    # the CLI makes the request; the curator's studio verifies and endorses it
    assert main(["keys", "request", "--key", str(cli / "ada.key"), "--name", "Ada Bakker", "--contact", "ada@x.nl",
                 "--out", str(cli / "ada.req")]) == 0
    form = FormData({"csrf": token})
    form.add_field("request", io.BytesIO((cli / "ada.req").read_bytes()), filename="ada.req")
    checked = await studio.post("/curator/requests", data=form, allow_redirects=False)
    assert checked.status == 303
    request_page = checked.headers["Location"]
    assert "Ada Bakker" in await (await studio.get(request_page)).text()
    endorsed = await studio.post(request_page + "/endorse", data={"csrf": token, "checked": "yes", "months": "6",
                                                                  "name": "Ada Bakker"}, allow_redirects=False)
    assert endorsed.status == 303
    fingerprint = folder.public_key("artist").fingerprint.replace(":", "")
    endorsement = Endorsement.from_bytes(await (await studio.get(endorsed.headers["Location"] + ".endorsement"))
                                          .read())
    assert endorsement.artist == folder.public_key("artist").raw and endorsement.valid_until is not None
    assert (tmp_path / "home" / "endorsed" / f"{fingerprint}.endorsement").exists()

    # an endorsement made by the CLI imports into the artist's studio
    assert main(["keys", "endorse", "--curator", str(cli / "cur.key"), "--artist", str(cli / "ada.key.pub"),
                 "--name", "Ada B", "--out", str(cli / "ada.end")]) == 0
    form = FormData({"csrf": token})
    form.add_field("endorsement", io.BytesIO((cli / "ada.end").read_bytes()), filename="ada.end")
    assert (await studio.post("/endorsement/import", data=form, allow_redirects=False)).status == 303
    assert folder.endorsement().name == "Ada B"

    # an endorsement of someone else's key is refused
    assert main(["keys", "new", "--role", "artist", "--out", str(cli / "bob.key")]) == 0
    assert main(["keys", "endorse", "--curator", str(cli / "cur.key"), "--artist", str(cli / "bob.key.pub"),
                 "--name", "Bob", "--out", str(cli / "bob.end")]) == 0
    form = FormData({"csrf": token})
    form.add_field("endorsement", io.BytesIO((cli / "bob.end").read_bytes()), filename="bob.end")
    refused = await studio.post("/endorsement/import", data=form)
    assert refused.status == 422 and "not for your artist key" in await refused.text()
    assert folder.endorsement().name == "Ada B"
