"""Fixtures for the virtual radio tests: scenarios, radios on free ports, the real meshtastic CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios

CLI_TIMEOUT_S = 45


def meshtastic_cli() -> str:
    """The meshtastic CLI of this virtual environment."""
    candidate = Path(sys.executable).with_name("meshtastic")
    found = str(candidate) if candidate.exists() else shutil.which("meshtastic")
    if found is None:
        pytest.fail("the meshtastic CLI is not installed (pip install meshtastic)")
    return found


def run_meshtastic(port: int, *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run ``meshtastic --host 127.0.0.1:PORT ARGS`` and return the finished process."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run([meshtastic_cli(), "--host", f"127.0.0.1:{port}", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def write_scenario(path: Path, names: list[str], links: list[tuple[str, str]]) -> Path:
    """A scenario file with an explicit link table (both directions, good SNR)."""
    nodes = [{"name": name, "lat": 52.37 + i * 0.001, "lon": 4.90, "antenna_m": 10} for i, name in enumerate(names)]
    data = {"nodes": nodes, "links": [{"from": a, "to": b, "snr": 6.5, "rssi": -95} for a, b in links]}
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def pair_scenario(tmp_path: Path) -> Path:
    """Two radios that hear each other."""
    return write_scenario(tmp_path / "pair.json", ["alpha", "beta"], [("alpha", "beta")])


@pytest.fixture
def pair_radios(pair_scenario: Path):
    """Two virtual radios on free ports (no boot announcements, so tests start on a quiet channel)."""
    options = NetworkOptions(base_port=0, announce=False, seed=7)
    with BackgroundRadios(load_scenario(str(pair_scenario)), options) as radios:
        yield radios
