"""keys new -> endorse -> publish (real PNG, --budget) -> verify -> ingest -> works, as a user runs them."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from PIL import Image

from node.artwork import read_bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.keys import load_public

ROOT = Path(__file__).resolve().parents[2]


def test_key_files_are_private_and_public_files_are_beside_them(ws) -> None:
    for name in ("curator.key", "ada.key"):
        assert stat.S_IMODE(os.stat(ws.path(name)).st_mode) == 0o600
        assert ws.path(name + ".pub").read_text().startswith("mesh-art-public-v1 ")


def test_publish_fits_the_budget_and_reports_the_airtime(ws) -> None:
    out = ws.setup_output["publish"]
    assert "re-encoded tiles.png" in out and "as WEBP" in out
    assert "on air:" in out and "manifest +" in out
    for preset in ("LONG_FAST", "MEDIUM_SLOW", "SHORT_FAST"):
        assert preset in out
    assert "360 s of airtime per hour" in out
    trust = TrustAnchors([load_public(ws.path("curator.key.pub"))])
    bundle = read_bundle(ws.path("tiles.meshart").read_bytes(), trust)
    m = bundle.signed.manifest
    assert m.size <= 24 * 1024 and m.mime == "image/webp"
    assert m.title == {"en": "Tiles", "nl": "Tegels"} and m.alt["nl"] == "Ruisige tegels"
    assert m.creator == "Ada Lovelace" and m.origin == "Mediamatic"
    assert m.preview is not None and len(m.preview) <= 1024
    with Image.open(io.BytesIO(bundle.content)) as image:
        assert image.format == "WEBP"
    with Image.open(io.BytesIO(m.preview)) as thumb:
        assert max(thumb.size) <= 64


def test_verify_prints_a_summary_and_exits_zero(ws) -> None:
    run = ws.run("verify", ws.path("tiles.meshart"), "--trust", ws.path("curator.key.pub"))
    assert run.status == 0, run.err
    assert "OK" in run.out and "Tiles (en) / Tegels (nl)" in run.out
    assert "Ada Lovelace" in run.out and "CC BY-SA 4.0" in run.out
    assert "image/webp" in run.out and "chunks" in run.out
    curator_fp = load_public(ws.path("curator.key.pub")).fingerprint
    assert curator_fp in run.out


def test_ingest_then_works_lists_the_complete_work(ws, tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    run = ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, "--trust", ws.path("curator.key.pub"))
    assert run.status == 0, run.err
    assert "stored" in run.out
    again = ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, "--trust", ws.path("curator.key.pub"))
    assert again.status == 0 and "already held" in again.out

    listing = ws.run("works", "--data-dir", data_dir)
    assert listing.status == 0
    (row,) = [line for line in listing.out.splitlines() if "Tiles" in line]
    assert "complete" in row and "Ada Lovelace" in row
    have, total = row.split()[1].split("/")
    assert have == total and int(total) > 50

    as_json = json.loads(ws.run("works", "--data-dir", data_dir, "--json").out)
    (work,) = as_json["works"]
    assert work["complete"] is True and work["chunks_have"] == work["chunks_total"]
    assert len(work["work_id"]) == 64 and work["mime"] == "image/webp"


def test_ingest_refuses_an_untrusted_bundle_and_stores_nothing(ws, tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    ws.run("keys", "new", "--role", "curator", "--out", tmp_path / "other.key")
    run = ws.run("ingest", ws.path("tiles.meshart"), "--data-dir", data_dir, "--trust", tmp_path / "other.key.pub")
    assert run.status == 1
    assert "unknown-curator" in run.err
    assert json.loads(ws.run("works", "--data-dir", data_dir, "--json").out)["works"] == []


def test_works_on_a_missing_directory_is_an_error(ws, tmp_path: Path) -> None:
    run = ws.run("works", "--data-dir", tmp_path / "nowhere")
    assert run.status == 1 and "no data directory" in run.err
    assert not (tmp_path / "nowhere").exists()


def test_the_console_script_runs_as_a_real_process(ws) -> None:
    """Exit statuses as a shell sees them (python -m node runs the same main as `mesh-art`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "node", "verify", str(ws.path("tiles.meshart")),
                         "--trust", str(ws.path("curator.key.pub"))], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "OK" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "node", "verify", str(ws.path("tiles.meshart")),
                          "--trust", str(ws.path("ada.key.pub"))], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1
