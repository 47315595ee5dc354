"""Curator takedowns through the CLI, and private keys never leaking into outputs or bundles."""

from __future__ import annotations

import json
from pathlib import Path

from node.artwork.keys import load_secret


def _works(ws, data_dir: Path) -> dict:
    return json.loads(ws.run("works", "--data-dir", data_dir, "--json").out)


def test_takedown_removes_the_work_and_keeps_it_from_coming_back(ws, tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    trust = ("--trust", ws.path("curator.key.pub"))
    assert ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, *trust).status == 0
    work_id = _works(ws, data_dir)["works"][0]["work_id"]

    by_id = ws.run("takedown", work_id, "--curator", ws.path("curator.key"), "--reason", "withdrawn by artist",
                   "--out", tmp_path / "a.takedown")
    by_bundle = ws.run("takedown", ws.path("tiles.meshart"), "--curator", ws.path("curator.key"),
                       "--out", tmp_path / "b.takedown")
    assert by_id.status == 0 and by_bundle.status == 0
    assert work_id[:16] in by_id.out and work_id[:16] in by_bundle.out

    applied = ws.run("ingest-takedown", tmp_path / "a.takedown", "--data-dir", data_dir, *trust)
    assert applied.status == 0 and "deleted" in applied.out
    listing = _works(ws, data_dir)
    assert listing["works"] == [] and listing["taken_down"] == [work_id]
    assert "already recorded" in ws.run("ingest-takedown", tmp_path / "b.takedown", "--data-dir", data_dir,
                                        *trust).out

    back = ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, *trust)
    assert back.status == 1 and "taken-down" in back.err
    assert _works(ws, data_dir)["works"] == []


def test_takedowns_need_a_curator_key_and_a_trusted_signature(ws, tmp_path: Path) -> None:
    refused = ws.run("takedown", ws.path("tiles.meshart"), "--curator", ws.path("ada.key"), "--out", tmp_path / "x")
    assert refused.status == 1 and "curator key is needed" in refused.err
    ws.run("keys", "new", "--role", "curator", "--out", tmp_path / "rogue.key")
    ws.run("takedown", ws.path("tiles.meshart"), "--curator", tmp_path / "rogue.key", "--out", tmp_path / "r.td")
    data_dir = tmp_path / "node"
    ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, "--trust", ws.path("curator.key.pub"))
    run = ws.run("ingest-takedown", tmp_path / "r.td", "--data-dir", data_dir, "--trust", ws.path("curator.key.pub"))
    assert run.status == 1 and "unknown-curator" in run.err
    assert len(_works(ws, data_dir)["works"]) == 1
    bad_id = ws.run("takedown", "abcd", "--curator", ws.path("curator.key"), "--out", tmp_path / "y")
    assert bad_id.status == 1 and "64-hex-digit" in bad_id.err


def test_misused_private_keys_are_never_echoed(ws, tmp_path: Path) -> None:
    secret_line = ws.path("curator.key").read_text().strip()
    runs = []
    # a private key file, and a private key pasted inline, where a public key belongs
    for spec in (str(ws.path("curator.key")), secret_line, secret_line.split()[2] + " x"):
        runs.append(ws.run("verify", ws.path("tiles.meshart"), "--trust", spec))
    # wrong-role private keys where another private key belongs
    poem = tmp_path / "p.txt"
    poem.write_text("x")
    runs.append(ws.run("publish", poem, "--key", ws.path("curator.key"), "--endorsement", ws.path("ada.endorsement"),
                       "--title", "T", "--license", "cc-by-4", "--out", tmp_path / "o.meshart"))
    runs.append(ws.run("keys", "endorse", "--curator", ws.path("ada.key"), "--artist", ws.path("ada.key.pub"),
                       "--name", "A", "--out", tmp_path / "e"))
    assert all(run.status == 1 and run.err for run in runs)
    for secret in ws.secrets():
        for run in runs:
            assert secret not in (run.out + run.err).encode()


def test_no_private_key_appears_in_setup_output_or_files(ws) -> None:
    secrets = ws.secrets()
    assert len(secrets) == 4  # curator and artist, as base64 and raw
    blobs = [ws.path("tiles.meshart").read_bytes(), ws.path("ada.endorsement").read_bytes()]
    texts = [t.encode() for t in ws.seen]
    assert b"fingerprint" in b"".join(texts)  # the setup commands did talk
    for secret in secrets:
        for blob in blobs + texts:
            assert secret not in blob
    artist = load_secret(ws.path("ada.key"))
    assert artist.seed_bytes() in secrets
    for secret in secrets:
        assert secret.decode("latin-1") not in repr(artist)


def test_a_reason_too_long_for_one_frame_is_refused(ws, tmp_path: Path) -> None:
    run = ws.run("takedown", ws.path("tiles.meshart"), "--curator", ws.path("curator.key"),
                 "--reason", "x" * 59, "--out", tmp_path / "t")
    assert run.status == 1 and "too long to fit one radio frame" in run.err
    assert not (tmp_path / "t").exists()


def test_keys_new_creates_a_private_directory_for_the_key(ws, tmp_path: Path) -> None:
    target = tmp_path / "home" / ".mesh-art" / "me.key"
    result = ws.run("keys", "new", "--role", "artist", "--out", target)
    assert result.status == 0, result.err
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700
    assert load_secret(target, role="artist").public.fingerprint in result.out
