"""Sealed key files: round trip, wrong passphrase, tampering, modes, and plain files still read."""

from __future__ import annotations

import os
import stat

import pytest

from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import SecretKey, write_keypair
from node.artwork.keystore import (
    INTERACTIVE,
    WrongPassphrase,
    check_new_passphrase,
    is_sealed,
    key_public,
    open_secret,
    read_sealed,
    write_sealed,
)
from node.artwork.request import EndorsementRequest, read_request

PASS = "harbour lights at dusk"


def test_round_trip_gives_back_the_same_key(tmp_path):
    key = SecretKey.generate("artist")
    path = tmp_path / "artist.key"
    pub = write_sealed(key, path, PASS, strength=INTERACTIVE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pub.read_text().split()[-1] in key.public.to_line()
    opened = open_secret(path, "artist", passphrase=lambda _p: PASS)
    assert opened.seed_bytes() == key.seed_bytes() and opened.role == "artist"
    assert is_sealed(path) and key_public(path).raw == key.public.raw


def test_the_file_holds_no_key_material_in_the_clear(tmp_path):
    key = SecretKey.generate("curator")
    path = tmp_path / "c.key"
    write_sealed(key, path, PASS, strength=INTERACTIVE)
    import base64

    text = path.read_text()
    assert base64.b64encode(key.seed_bytes()).decode() not in text
    assert key.seed_bytes().hex() not in text


def test_wrong_passphrase_is_refused(tmp_path):
    path = tmp_path / "a.key"
    write_sealed(SecretKey.generate("artist"), path, PASS, strength=INTERACTIVE)
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        open_secret(path, "artist", passphrase=lambda _p: PASS + "!")
    with pytest.raises(KeyFileError, match="no passphrase"):
        open_secret(path, "artist")


def test_an_edited_role_or_public_key_is_caught(tmp_path):
    path = tmp_path / "a.key"
    write_sealed(SecretKey.generate("artist"), path, PASS, strength=INTERACTIVE)
    words = path.read_text().split()
    edited = tmp_path / "b.key"
    edited.write_text(" ".join([words[0], "curator", *words[2:]]) + "\n")
    edited.chmod(0o600)
    with pytest.raises(KeyFileError, match="does not match"):
        open_secret(edited, "curator", passphrase=lambda _p: PASS)
    other = SecretKey.generate("artist").public.to_line().split()[-1]
    edited.write_text(" ".join([words[0], words[1], other, *words[3:]]) + "\n")
    with pytest.raises(KeyFileError, match="does not match its public key"):
        open_secret(edited, "artist", passphrase=lambda _p: PASS)


def test_hostile_kdf_settings_are_refused_before_deriving(tmp_path):
    path = tmp_path / "a.key"
    write_sealed(SecretKey.generate("artist"), path, PASS, strength=INTERACTIVE)
    words = path.read_text().split()
    words[5] = str(64 << 30)  # 64 GiB of memory
    path.write_text(" ".join(words) + "\n")
    with pytest.raises(KeyFileError, match="out of range"):
        read_sealed(path)


def test_role_is_checked_and_plain_files_still_work(tmp_path):
    sealed = tmp_path / "s.key"
    write_sealed(SecretKey.generate("artist"), sealed, PASS, strength=INTERACTIVE)
    with pytest.raises(KeyFileError, match="is a artist key; a curator key"):
        open_secret(sealed, "curator", passphrase=lambda _p: PASS)
    plain_key = SecretKey.generate("curator")
    plain = tmp_path / "p.key"
    write_keypair(plain_key, plain)
    asked = []
    opened = open_secret(plain, "curator", passphrase=lambda p: asked.append(p) or PASS)
    assert opened.seed_bytes() == plain_key.seed_bytes() and not asked  # no passphrase for a plain file
    assert not is_sealed(plain)


def test_group_readable_sealed_key_is_refused(tmp_path):
    path = tmp_path / "a.key"
    write_sealed(SecretKey.generate("artist"), path, PASS, strength=INTERACTIVE)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        open_secret(path, "artist", passphrase=lambda _p: PASS)


def test_new_passphrase_rules():
    with pytest.raises(ValueError, match="at least 8"):
        check_new_passphrase("short")
    with pytest.raises(ValueError, match="differ"):
        check_new_passphrase("long enough", "long enougH")
    check_new_passphrase("long enough", "long enough")


def test_endorsement_request_round_trip_and_tampering():
    artist = SecretKey.generate("artist")
    request = EndorsementRequest.create(artist, " Ada Bakker ", "ada@example.org", 1_790_000_000)
    assert request.name == "Ada Bakker"
    assert len(request.to_bytes()) < 256
    assert read_request(request.to_bytes()) == request
    text = request.to_text()
    assert text.startswith("MESHART-REQ:") and set(text[12:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert read_request(text.encode()) == request
    assert EndorsementRequest.from_text(text.lower().replace("meshart-req:", "MESHART-REQ:")) == request
    forged = EndorsementRequest(request.artist, "Mallory", request.contact, request.issued, request.signature)
    with pytest.raises(VerificationError, match="does not verify"):
        read_request(forged.to_bytes())
    with pytest.raises(ValueError, match="artist key"):
        EndorsementRequest.create(SecretKey.generate("curator"), "Ada", "", 0)
