"""`mesh-art demo` end to end: four nodes, works cross the simulated air, clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from node.demo.samples import sample_bundles

ROOT = Path(__file__).resolve().parents[2]


def free_port_block(count: int = 4) -> int:
    """A base port with ``count`` consecutive free ports after it."""
    for base in range(21000 + os.getpid() % 5000, 60000, 10):
        sockets = []
        try:
            for offset in range(count):
                s = socket.socket()
                s.bind(("127.0.0.1", base + offset))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port block")


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_demo_carries_a_waag_work_to_nemo_and_stops_cleanly(tmp_path: Path) -> None:
    base = free_port_block()
    waag_work = sample_bundles()["waag"][0].work_id.hex()
    proc = subprocess.Popen(
        [sys.executable, "-m", "node", "demo", "--speed", "20", "--base-port", str(base),
         "--data-dir", str(tmp_path / "demo")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        nemo_has_it = False
        while time.monotonic() < deadline and not nemo_has_it:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(1)
            try:
                _, body = get(f"http://127.0.0.1:{base}/api/status")
            except OSError:
                continue
            status = json.loads(body)
            assert status["node"]["venue"].startswith("NEMO")
            nemo_has_it = status["works"]["complete"] >= 1 and _complete_at(base, waag_work)
        assert nemo_has_it, "the Waag work never completed at NEMO"
        for offset in range(4):
            code, page = get(f"http://127.0.0.1:{base + offset}/")
            assert code == 200
            assert b"<html" in page.lower()
        code, page = get(f"http://127.0.0.1:{base}/works/{waag_work}")
        assert code == 200 and (b"Canal waves" in page or b"Grachtgolven" in page)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Traceback" not in out
    assert f"http://127.0.0.1:{base}/" in out
    assert "demo stopped" in out


def _complete_at(port: int, work_hex: str) -> bool:
    """Ask the node's store, through the gallery, whether the work is whole."""
    try:
        code, _ = get(f"http://127.0.0.1:{port}/media/{work_hex}")
    except OSError:
        return False
    return code == 200
