"""Works and takedowns added with the CLI to a *running* node reach the other node without a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from node.artwork.keys import write_keypair
from tests.daemon.harness import REPO, Daemon, mqtt_section, write_config
from tests.factories import curator_key, make_bundle


def mesh_art(*argv: str) -> subprocess.CompletedProcess[str]:
    """The real ``mesh-art`` command, as an operator runs it next to the daemon."""
    return subprocess.run([sys.executable, "-m", "node", *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_ingest_and_takedown_into_a_running_node_reach_the_other_node(tmp_path: Path, broker, daemons) -> None:
    curator_pub = write_keypair(curator_key(), tmp_path / "curator.key")
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        config = write_config(tmp_path / f"{name}.toml", tmp_path / name, mqtt_section(broker.port))
        nodes.append(Daemon(config, tmp_path / name))
    a, b = nodes
    daemons += nodes
    a.start()
    b.start()
    a.wait_status(lambda s: s["peers_heard"] >= 1, timeout=30)

    bundle = make_bundle(5000, "added by hand")
    bundle_file = tmp_path / "work.meshart"
    bundle_file.write_bytes(bundle.to_bytes())
    added = mesh_art("ingest", str(bundle_file), "--data-dir", str(a.data_dir), "--trust", str(curator_pub))
    assert added.returncode == 0, added.stderr
    status = b.wait_status(lambda s: s["works"]["complete"] == 1, timeout=60)
    assert status["takedowns"] == 0
    assert "work added outside the daemon offered to the mesh" in a.log()

    takedown_file = tmp_path / "work.takedown"
    made = mesh_art("takedown", bundle.work_id.hex(), "--curator", str(tmp_path / "curator.key"),
                    "--reason", "withdrawn", "--out", str(takedown_file))
    assert made.returncode == 0, made.stderr
    applied = mesh_art("ingest-takedown", str(takedown_file), "--data-dir", str(a.data_dir),
                       "--trust", str(curator_pub))
    assert applied.returncode == 0, applied.stderr
    status = b.wait_status(lambda s: s["takedowns"] == 1 and s["works"]["complete"] == 0, timeout=60)
    assert "takedown added outside the daemon spread to the mesh" in a.log()
    assert a.stop() == 0 and b.stop() == 0
