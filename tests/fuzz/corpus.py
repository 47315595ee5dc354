"""The committed seed corpus in ``tests/fuzz/corpus/``: how it is built and how it is read.

Every entry is a real, valid object (a frame two engines actually sent, a signed manifest,
bundle, takedown, endorsement, a working node.toml or topology), so mutations start from inputs
that pass the outer checks and reach the deep ones. Rebuild with::

    .venv/bin/python -m tests.fuzz.corpus
"""

from __future__ import annotations

import json
from pathlib import Path

from node.artwork import Takedown
from node.artwork.bundle import Bundle
from node.protocol import frames as fr
from tests import factories

CORPUS_DIR = Path(__file__).parent / "corpus"
KINDS = ("frames", "manifests", "bundles", "takedowns", "endorsements", "configs", "topologies")
WORK_SIZE = 3000
FRAMES_PER_KIND = 8


def fuzz_work() -> Bundle:
    """The work the fuzzed engine holds in part (the corpus frames carry its chunks)."""
    return factories.make_bundle(WORK_SIZE, "fuzz-work")


def load(kind: str) -> list[bytes]:
    """The committed entries of one kind, in file-name order."""
    folder = CORPUS_DIR / kind
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]


def _frames_from_a_real_exchange() -> list[bytes]:
    """Frames of every kind from two engines exchanging :func:`fuzz_work`, plus a takedown."""
    from tests.protocol.harness import Medium, Mesh

    mesh = Mesh(11, [Medium("radio")])
    for name in ("src", "dst"):
        mesh.add_node(name)
    mesh.connect("radio", "src", "dst")
    bundle = fuzz_work()
    mesh.nodes["src"].engine.ingest_bundle(bundle, 0.0)  # type: ignore[union-attr]
    mesh.run(3600, stop=lambda: mesh.complete(bundle.work_id))
    mesh.run(mesh.now + 1200)  # beacons
    by_kind: dict[int, list[bytes]] = {}
    for sent in mesh.sent:
        kind = sent.data[0] & 0x0F
        same = by_kind.setdefault(kind, [])
        if sent.data not in same and len(same) < FRAMES_PER_KIND:
            same.append(sent.data)
    takedown = Takedown.create(factories.curator_key(), factories.make_bundle(500, "gone").work_id, "fuzz", 5)
    out = [frame for kind in sorted(by_kind) for frame in by_kind[kind]]
    out.append(fr.encode(fr.TakedownFrame(takedown.to_bytes())))
    out.append(fr.encode(fr.Request.for_indices(bundle.work_id[:4], fr.TARGET_CHUNKS, [0, 3, 9, 13])))
    out.append(fr.encode(fr.Request(bundle.work_id[:4], fr.TARGET_TAKEDOWN, 0, b"")))
    return out


CONFIG_SAMPLES = {
    "minimal.toml": "",
    "full.toml": """\
[node]
name = "Fuzz Node"
venue = "Waag"
lat = 52.37275
lon = 4.90026
data_dir = "data"
trust = ["curator.pub"]
store = "memory"
quota_mb = 64
upload_limit_kb = 256
seed = 7

[http]
host = "127.0.0.1"
port = 8080

[log]
level = "debug"

[radio]
device = "tcp:127.0.0.1:4403"
port = 256
preset = "MEDIUM_FAST"
duty_cycle_share = 0.5

[mqtt]
host = "broker.example"
exhibition = "fuzz"
port = 1883
tls = false
keepalive_s = 30
max_inbound_frames_per_s = 50.0

[engine]
beacon_interval_s = 900.0
trickle_imin_s = 30.0
trickle_doublings = 7
""",
    "disabled.toml": "[radio]\nenabled = false\n\n[mqtt]\nenabled = false\n",
}

TOPOLOGY_SAMPLES = {
    "two.json": {"source": "a", "nodes": [{"name": "a", "lat": 52.37, "lon": 4.9},
                                          {"name": "b", "lat": 52.38, "lon": 4.91, "antenna_m": 12}]},
    "links.json": {
        "source": "a",
        "nodes": [{"name": "a", "lat": 52.37, "lon": 4.9}, {"name": "b", "lat": 52.38, "lon": 4.91},
                  {"name": "c", "lat": 52.39, "lon": 4.92, "label": "C"}],
        "links": [{"a": "a", "b": "b", "state": "up"}, {"a": "b", "b": "c", "extra_loss": 0.2, "extra_db": 3}],
        "reboots": [{"node": "b", "at_s": 60, "down_s": 30}],
    },
}


def build() -> dict[str, dict[str, bytes]]:
    """Every corpus entry by kind and file name."""
    bundle = fuzz_work()
    image = factories.make_bundle(900, "fuzz-image", mime="image/png")
    endorsement = bundle.signed.manifest.endorsement
    takedown = Takedown.create(factories.curator_key(), bundle.work_id, "fuzz corpus", 10)
    scenarios = Path(__file__).resolve().parents[2] / "simulator" / "scenarios"
    out: dict[str, dict[str, bytes]] = {
        "frames": {f"{i:03d}-kind{f[0] & 0x0F}.bin": f for i, f in enumerate(_frames_from_a_real_exchange())},
        "manifests": {"work.cbor": bundle.signed.raw, "image.cbor": image.signed.raw},
        "bundles": {"work.meshart": bundle.to_bytes(), "image.meshart": image.to_bytes()},
        "takedowns": {"takedown.cbor": takedown.to_bytes()},
        "endorsements": {"endorsement.cbor": endorsement.to_bytes()},
        "configs": {name: text.encode() for name, text in CONFIG_SAMPLES.items()},
        "topologies": {name: json.dumps(doc).encode() for name, doc in TOPOLOGY_SAMPLES.items()},
    }
    out["topologies"]["amsterdam.json"] = (scenarios / "amsterdam.json").read_bytes()
    return out


def write() -> None:
    """Rewrite the committed corpus."""
    for kind, entries in build().items():
        folder = CORPUS_DIR / kind
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, data in entries.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    write()
    for kind in KINDS:
        print(f"{kind}: {len(load(kind))} entries")
