"""Fixtures for the virtual radio tests: scenarios, radios on free ports, the real meshtastic CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios
from simulator.virtual_radio.timing import FirmwareTiming

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


# The firmware's delays, shortened so a reboot or a boot announcement takes a moment, not 7-30 s.
FAST = FirmwareTiming(reboot_s=0.3, nodeinfo_start_s=0.3, position_start_s=0.5, telemetry_start_s=0.7,
                      telemetry_to_phone_s=0.5, position_check_s=0.2)


def radios(scenario: Path, announce: bool = False, seed: int = 7) -> BackgroundRadios:
    """Virtual radios of ``scenario`` on free ports, with the shortened firmware timing."""
    options = NetworkOptions(base_port=0, announce=announce, seed=seed, timing=FAST)
    return BackgroundRadios(load_scenario(str(scenario)), options)


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def wait_for_reboot(net: BackgroundRadios, name: str, boots: int = 1) -> None:
    """Wait until radio ``name`` has rebooted ``boots`` times in all."""
    wait_until(lambda: net.call(lambda n: n.radio(name).counters.boots) >= boots, what=f"{name} to reboot")


def num_of(net: BackgroundRadios, name: str) -> int:
    """The node number of radio ``name``."""
    return net.call(lambda n: n.radio(name).node_num)


@pytest.fixture
def line_scenario(tmp_path: Path) -> Path:
    """a - b - c: a and c hear only b."""
    return write_scenario(tmp_path / "line.json", ["a", "b", "c"], [("a", "b"), ("b", "c")])
