"""``mesh-art revoke`` and ``ingest-revocation``: a curator revokes an artist key."""

from __future__ import annotations

import json
from pathlib import Path


def _works(ws, data_dir: Path) -> dict:
    return json.loads(ws.run("works", "--data-dir", data_dir, "--json").out)


def test_revoking_an_artist_removes_their_works_and_refuses_them_from_then_on(ws, tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    trust = ("--trust", ws.path("curator.key.pub"))
    assert ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, *trust).status == 0
    assert len(_works(ws, data_dir)["works"]) == 1

    signed = ws.run("revoke", ws.path("ada.key.pub"), "--curator", ws.path("curator.key"), "--reason", "key stolen",
                    "--out", tmp_path / "ada.revocation")
    assert signed.status == 0 and "artist key" in signed.out
    applied = ws.run("ingest-revocation", tmp_path / "ada.revocation", "--data-dir", data_dir, *trust)
    assert applied.status == 0 and "1 of its works deleted" in applied.out
    assert _works(ws, data_dir)["works"] == []
    again = ws.run("ingest-revocation", tmp_path / "ada.revocation", "--data-dir", data_dir, *trust)
    assert "already recorded" in again.out
    back = ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, *trust)
    assert back.status == 1 and "revoked-key" in back.err


def test_revocations_need_a_curator_key_the_right_role_and_a_trusted_signature(ws, tmp_path: Path) -> None:
    wrong_signer = ws.run("revoke", ws.path("ada.key.pub"), "--curator", ws.path("ada.key"), "--out", tmp_path / "r")
    assert wrong_signer.status != 0 and not (tmp_path / "r").exists()
    wrong_role = ws.run("revoke", ws.path("ada.key.pub"), "--role", "node", "--curator", ws.path("curator.key"),
                        "--out", tmp_path / "r")
    assert wrong_role.status != 0 and "artist key" in wrong_role.err
    long_reason = ws.run("revoke", ws.path("ada.key.pub"), "--curator", ws.path("curator.key"), "--reason", "x" * 200,
                         "--out", tmp_path / "r")
    assert long_reason.status != 0 and "too long" in long_reason.err
    ok = ws.run("revoke", ws.path("ada.key.pub"), "--curator", ws.path("curator.key"), "--out", tmp_path / "r")
    assert ok.status == 0
    assert ws.run("keys", "new", "--role", "curator", "--out", tmp_path / "other.key").status == 0
    untrusted = ws.run("ingest-revocation", tmp_path / "r", "--data-dir", tmp_path / "node",
                       "--trust", tmp_path / "other.key.pub")
    assert untrusted.status != 0 and "REJECTED" in untrusted.err
