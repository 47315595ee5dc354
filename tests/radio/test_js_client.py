"""A second, independent client: the official Meshtastic JavaScript packages, run by Node.js.

``tests/radio/js/client.mjs`` uses ``@meshtastic/core`` with ``@meshtastic/transport-node`` (TCP,
as to port 4403 of a real radio). ``scripts/setup.sh`` installs Node from Debian and the packages
from ``tests/radio/js/package-lock.json``; with ``CI=true`` a missing Node fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import num_of, radios

JS_DIR = Path(__file__).resolve().parent / "js"
JS_TIMEOUT_S = 120


def node_or_skip() -> str:
    """The ``node`` executable with the packages installed; skip (fail on CI) when absent."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "Node.js and npm are needed for the JavaScript client test (scripts/setup.sh installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    if not (JS_DIR / "node_modules" / "@meshtastic" / "transport-node").is_dir():
        # The packages' manifests carry their monorepo's pnpm-only preinstall hook: skip install scripts.
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                       check=True, timeout=JS_TIMEOUT_S)
    return node


def test_official_js_client_configures_reads_and_sends_texts_with_want_ack(pair_scenario):
    node = node_or_skip()
    with radios(pair_scenario) as net:
        alpha, beta = num_of(net, "alpha"), num_of(net, "beta")
        process = subprocess.run([node, str(JS_DIR / "client.mjs"), "127.0.0.1", str(net.port_of("alpha")),
                                  str(net.port_of("beta"))], capture_output=True, text=True, timeout=JS_TIMEOUT_S,
                                 check=False)
    assert process.returncode == 0, process.stderr + process.stdout
    [line] = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    a, b = result["a"], result["b"]
    assert (a["myNodeNum"], b["myNodeNum"]) == (alpha, beta)
    own = next(info for info in a["nodes"] if info["num"] == alpha)
    assert own["longName"] == "alpha" and own["hasPublicKey"]
    assert [c["index"] for c in a["channels"]] == list(range(8))
    assert [c["role"] for c in a["channels"]] == [1] + [0] * 7  # PRIMARY, then DISABLED
    assert a["configs"] == ["device", "position", "power", "network", "display", "lora", "bluetooth", "security"]
    assert "telemetry" in a["moduleConfigs"] and a["metadata"].startswith("2.7.")
    assert {"from": alpha, "to": 0xFFFFFFFF, "type": "broadcast", "text": "hello from the JS client"} in b["texts"]
    assert {"from": beta, "to": alpha, "type": "direct", "text": "and back, directly"} in a["texts"]
    assert result["broadcastAck"] > 0 and result["directAck"] > 0  # both wantAck promises resolved
