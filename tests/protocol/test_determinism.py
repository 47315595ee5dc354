"""One seed, one trace: in-process and across interpreters with different PYTHONHASHSEED."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from tests import factories
from tests.protocol.harness import Medium, Mesh

ROOT = Path(__file__).resolve().parents[2]


def run_scenario(seed: int) -> str:
    """A lossy multi-hop run with two works and a takedown; returns the hash of the frame trace."""
    from node.artwork import Takedown

    mesh = Mesh(seed, [Medium("radio", loss=0.3, duplicate=0.05, max_delay=0.5)])
    names = [f"n{i}" for i in range(5)]
    for name in names:
        mesh.add_node(name)
    for a, b in [("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n3", "n4"), ("n1", "n3")]:
        mesh.connect("radio", a, b)
    first = mesh.nodes["n0"].engine.ingest_bundle(factories.make_bundle(4000, "one"), 0.0)
    second = mesh.nodes["n4"].engine.ingest_bundle(factories.make_bundle(3000, "two"), 0.0)
    mesh.run(3600, stop=lambda: mesh.complete(first) and mesh.complete(second))
    mesh.nodes["n2"].engine.apply_takedown(Takedown.create(factories.curator_key(), second, "x", 3), mesh.now)
    mesh.run(mesh.now + 1800)
    events = [(n, repr(e)) for n in names for e in mesh.nodes[n].events]
    digest = hashlib.sha256(repr((mesh.trace, events)).encode()).hexdigest()
    return f"{len(mesh.trace)}:{digest}"


def test_same_seed_same_trace_in_process():
    assert run_scenario(21) == run_scenario(21)
    assert run_scenario(21) != run_scenario(22)


def test_same_trace_across_hash_seeds():
    code = "from tests.protocol.test_determinism import run_scenario; print(run_scenario(21))"
    outputs = []
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                                text=True, check=True, timeout=120)
        outputs.append(result.stdout.strip())
    assert outputs[0] == outputs[1] == run_scenario(21)
