"""`mesh-art verify` and `publish` refuse bad input with exit 1 and one clear line."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import cbor2
import pytest

from node.artwork import canonical

HEADER = 12


def _manifest(blob: bytes) -> tuple[bytes, bytes]:
    (length,) = struct.unpack(">I", blob[8:12])
    return blob[HEADER : HEADER + length], blob[HEADER + length :]


def _with_manifest(blob: bytes, raw: bytes) -> bytes:
    return blob[:8] + struct.pack(">I", len(raw)) + raw + _manifest(blob)[1]


def _edit_manifest(blob: bytes, edit: Callable[[dict], None]) -> bytes:
    obj = cbor2.loads(_manifest(blob)[0])
    edit(obj)
    return _with_manifest(blob, canonical.encode(obj))


def _flip_signature(blob: bytes) -> bytes:
    raw, _ = _manifest(blob)
    sig = cbor2.loads(raw)["sig"]
    return _with_manifest(blob, raw.replace(sig, bytes([sig[0] ^ 1]) + sig[1:]))


TAMPERS: dict[str, Callable[[bytes], bytes]] = {
    "bad-signature": _flip_signature,
    "bad-endorsement-signature": lambda b: _edit_manifest(b, lambda m: m["endorsement"].update(name="Mallory")),
    "hash-mismatch": lambda b: b[:-1] + bytes([b[-1] ^ 0x40]),
    "truncated": lambda b: b[:-10],
    "oversize": lambda b: b + b"extra",
    "unknown-version": lambda b: b[:7] + b"\x09" + b[8:],
    "bad-magic": lambda b: b"GIF89a\x00\x00" + b[8:],
    "malformed-cbor": lambda b: _with_manifest(b, b"\xbf\x61"),
    "non-canonical": lambda b: _with_manifest(b, cbor2.dumps(dict(reversed(cbor2.loads(_manifest(b)[0]).items())))),
}


@pytest.mark.parametrize("reason", sorted(TAMPERS))
def test_verify_names_the_reason_in_one_line(ws, tmp_path: Path, reason: str) -> None:
    bad = tmp_path / "bad.meshart"
    bad.write_bytes(TAMPERS[reason](ws.path("tiles.meshart").read_bytes()))
    run = ws.run("verify", bad, "--trust", ws.path("curator.key.pub"))
    assert run.status == 1
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert f"REJECTED {reason}:" in lines[0]


def test_unknown_curator(ws, tmp_path: Path) -> None:
    ws.run("keys", "new", "--role", "curator", "--out", tmp_path / "stranger.key")
    run = ws.run("verify", ws.path("tiles.meshart"), "--trust", tmp_path / "stranger.key.pub")
    assert run.status == 1 and "REJECTED unknown-curator:" in run.err
    both = ws.run("verify", ws.path("tiles.meshart"), "--trust", tmp_path / "stranger.key.pub",
                  "--trust", ws.path("curator.key.pub"))
    assert both.status == 0


def test_expired_endorsement_is_checked_against_the_given_date(ws) -> None:
    args = ("verify", ws.path("tiles.meshart"), "--trust", ws.path("curator.key.pub"))
    assert ws.run(*args, "--at", "2099-12-31").status == 0
    late = ws.run(*args, "--at", "2100-01-01")
    assert late.status == 1 and "REJECTED expired-endorsement:" in late.err


def test_missing_file_and_missing_trust_are_one_line_errors(ws, tmp_path: Path) -> None:
    run = ws.run("verify", tmp_path / "nope.meshart", "--trust", ws.path("curator.key.pub"))
    assert run.status == 1 and "cannot read bundle" in run.err
    run = ws.run("verify", ws.path("tiles.meshart"))
    assert run.status == 1 and "--trust" in run.err


def _publish(ws, tmp_path: Path, source: Path, *extra: str | Path):
    return ws.run("publish", source, "--key", ws.path("ada.key"), "--endorsement", ws.path("ada.endorsement"),
                  "--title", "T", "--license", "cc-by-4", "--out", tmp_path / "out.meshart", *extra)


def test_publish_text_work_within_budget(ws, tmp_path: Path) -> None:
    poem = tmp_path / "poem.txt"
    poem.write_text("de zee / the sea\n" * 20)
    run = _publish(ws, tmp_path, poem, "--budget", "1KiB", "--artform", "poetry")
    assert run.status == 0, run.err
    assert "text/plain" in run.out and "preview" not in run.out
    assert ws.run("verify", tmp_path / "out.meshart", "--trust", ws.path("curator.key.pub")).status == 0


def test_publish_refuses_a_non_image_over_budget(ws, tmp_path: Path) -> None:
    big = tmp_path / "novel.txt"
    big.write_text("word " * 2000)
    run = _publish(ws, tmp_path, big, "--budget", "2KiB")
    assert run.status == 1 and "over the limit of 2,048 bytes" in run.err
    assert not (tmp_path / "out.meshart").exists()


def test_publish_requires_alt_text_for_images(ws, tmp_path: Path) -> None:
    run = _publish(ws, tmp_path, ws.path("tiles.png"), "--budget", "24KiB")
    assert run.status == 1 and "--alt" in run.err


def test_publish_refuses_an_endorsement_for_another_key(ws, tmp_path: Path) -> None:
    ws.run("keys", "new", "--role", "artist", "--out", tmp_path / "bob.key")
    poem = tmp_path / "poem.txt"
    poem.write_text("hi")
    run = ws.run("publish", poem, "--key", tmp_path / "bob.key", "--endorsement", ws.path("ada.endorsement"),
                 "--title", "T", "--license", "cc-by-4", "--out", tmp_path / "out.meshart")
    assert run.status == 1 and "endorses key" in run.err


def test_publish_refuses_an_expired_endorsement(ws, tmp_path: Path) -> None:
    ws.run("keys", "endorse", "--curator", ws.path("curator.key"), "--artist", ws.path("ada.key.pub"),
           "--name", "Ada Lovelace", "--valid-until", "2001-01-01", "--out", tmp_path / "old.endorsement")
    poem = tmp_path / "poem.txt"
    poem.write_text("hi")
    run = ws.run("publish", poem, "--key", ws.path("ada.key"), "--endorsement", tmp_path / "old.endorsement",
                 "--title", "T", "--license", "cc-by-4", "--out", tmp_path / "out.meshart")
    assert run.status == 1 and "expired-endorsement" in run.err


def test_publish_refuses_a_curator_key_and_unknown_licences(ws, tmp_path: Path) -> None:
    poem = tmp_path / "poem.txt"
    poem.write_text("hi")
    run = ws.run("publish", poem, "--key", ws.path("curator.key"), "--endorsement", ws.path("ada.endorsement"),
                 "--title", "T", "--license", "cc-by-4", "--out", tmp_path / "out.meshart")
    assert run.status == 1 and "artist key is needed" in run.err
    run = _publish(ws, tmp_path, poem, "--license", "all rights reserved")
    assert run.status == 1 and "unknown licence" in run.err
