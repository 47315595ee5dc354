"""Issue 17, item 8: text anyone can send never reaches the operator's terminal raw.

A beacon's venue name (anyone with the channel key signs one) and a bundle's title, creator and
endorsed name (whoever signed it) carry ESC sequences that would set the window title and write
the clipboard (OSC 52), a C1 CSI, bidi overrides and a newline that forges an extra line. They go
through the real ``node status`` (against a real daemon), ``works``, ``ingest`` and ``verify``.
"""

from __future__ import annotations

import asyncio
import unicodedata

from node.artwork import Endorsement, WorkMetadata, build_bundle
from node.artwork.keys import SecretKey
from node.cli import main
from node.cli.terminal import printable
from node.daemon.runner import NodeDaemon
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.protocol.peers import sign_beacon
from node.transport.memory import MemoryBus, MemoryTransport
from tests.factories import CREATED, artist_key, curator_key
from tests.reliability.inprocess import node_config, running

HOSTILE = ("\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x9b2J\u202etxt.exe\u2066x\u2069"
           "\nOK: the signature chain holds\x7f\u2028")
DANGEROUS = set("\x1b\x07\x9b\u202e\u2066\u2069\x7f\u2028")


def assert_terminal_safe(text: str) -> None:
    """No control character but the newlines ending lines, no bidi control, no forged line."""
    assert not DANGEROUS & set(text), f"raw control characters in {text!r}"
    for line in text.split("\n"):
        assert all(unicodedata.category(c) != "Cc" for c in line), line
        assert not line.startswith("OK: the signature chain holds")


def test_printable_escapes_controls_and_bidi_but_keeps_ordinary_text():
    assert printable("Ça va — 🎨 Waag\u200dFuturelab") == "Ça va — 🎨 Waag\u200dFuturelab"
    assert printable("a\x1b[31mb\tc\nd\u202e") == "a\\u001b[31mb\\u0009c\\u000ad\\u202e"
    assert printable("\x9b\x00\x7f\u061c\u200f\u2029") == "\\u009b\\u0000\\u007f\\u061c\\u200f\\u2029"


def hostile_bundle_file(tmp_path):  # type: ignore[no-untyped-def]
    artist = artist_key("hostile")
    endorsement = Endorsement.create(curator_key(), artist.public, "Mallory" + HOSTILE[:40], CREATED - 86400)
    meta = WorkMetadata(title={"en": "Poem" + HOSTILE, "nl": HOSTILE}, creator="M" + HOSTILE, year=2026,
                        artform="text", medium="bytes", license="https://creativecommons.org/licenses/by/4.0/")
    bundle = build_bundle(b"hello", "text/plain", meta, artist, endorsement, CREATED)
    path = tmp_path / "hostile.meshart"
    path.write_bytes(bundle.to_bytes())
    return path


def test_works_ingest_and_verify_print_hostile_manifest_text_escaped(tmp_path, capsys):
    bundle = hostile_bundle_file(tmp_path)
    trust = tmp_path / "curator.pub"
    trust.write_text(curator_key().public.to_line() + "\n")
    data_dir = tmp_path / "node"
    runs = [
        ("verify", str(bundle), "--trust", str(trust), "--at", "2026-06-01"),
        ("ingest", str(bundle), "--data-dir", str(data_dir), "--trust", str(trust)),
        ("works", "--data-dir", str(data_dir)),
        ("works", "--data-dir", str(data_dir), "--json"),
    ]
    for argv in runs:
        status = main(list(argv))
        out, err = capsys.readouterr()
        assert status == 0, err
        assert "Poem" in out  # the title is shown ...
        assert_terminal_safe(out + err)  # ... escaped
    assert "\\u001b]52;c;" in out  # the escape is visible to the operator, not executed


async def test_node_status_prints_a_beacon_venue_escaped(tmp_path, capsys):
    daemon = NodeDaemon(node_config(tmp_path, "operator"), [MemoryTransport("mem", MemoryBus(), "operator")])
    async with running(daemon):
        assert daemon.driver is not None
        key = SecretKey.from_seed_text("hostile venue", "node")
        beacon = fr.StatusBeacon(node_key=key.public.raw, boot_id=1, seq=1, uptime_s=1, airtime_permille=1,
                                 works_held=0, lat=None, lon=None, version="0.1\x1b]0;v\x07", venue=HOSTILE[:60])
        daemon.driver.deliver("mem", fr.encode(sign_beacon(beacon, key)), RxInfo(sender="!hostile"))
        assert len(daemon.driver.peers) == 1
        url = f"http://127.0.0.1:{daemon.http_port}"
        for extra in ([], ["--json"]):
            status = await asyncio.to_thread(main, ["node", "status", "--http", url, *extra])
            out, err = capsys.readouterr()
            assert status == 0, err
            assert "txt.exe" in out
            assert_terminal_safe(out + err)


def test_error_lines_quote_a_hostile_file_name_escaped(tmp_path, capsys):
    # a file name from a downloaded folder can hold ESC sequences too (anything but "/" and NUL)
    bundle = hostile_bundle_file(tmp_path)
    named = tmp_path / HOSTILE.replace("\n", " ")[:60]
    named.write_bytes(b"not a bundle")
    for argv in (["verify", str(named), "--trust", str(bundle)],  # a bundle is no curator key
                 ["verify", str(named), "--trust", curator_key().public.to_line().split()[-1]],
                 ["ingest", str(named), "--data-dir", str(tmp_path / "n"), "--trust", str(tmp_path / "none.pub")]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert err.startswith("mesh-art: error:") and len(err.splitlines()) == 1, err
        assert_terminal_safe(out + err)
