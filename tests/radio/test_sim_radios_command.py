"""``mesh-art sim radios`` as a process: the node-to-port table, and config kept in --state-dir."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import yaml

from .conftest import run_meshtastic, write_scenario


def free_base_port(count: int) -> int:
    """A base port with ``count`` consecutive free ports (checked, not guaranteed)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65000:
            continue
        try:
            sockets = [socket.create_server(("127.0.0.1", base + i)) for i in range(count)]
        except OSError:
            continue
        for s in sockets:
            s.close()
        return base
    raise RuntimeError("no free port range")


def start(scenario, base: int, state_dir) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "node", "sim", "radios", "--scenario", str(scenario), "--base-port", str(base),
         "--state-dir", str(state_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(lines) < 4:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
    return process, lines


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_table_lists_consecutive_ports_and_settings_survive_a_restart(tmp_path):
    scenario = write_scenario(tmp_path / "s.json", ["left", "right"], [("left", "right")])
    base = free_base_port(2)
    process, lines = start(scenario, base, tmp_path / "state")
    try:
        assert lines[0].startswith("scenario s: 2 virtual radios"), lines
        assert lines[1].split()[:3] == ["node", "id", "address"]
        assert lines[2].split()[0] == "left" and f"127.0.0.1:{base}" in lines[2]
        assert lines[3].split()[0] == "right" and f"127.0.0.1:{base + 1}" in lines[3]
        assert lines[2].split()[-1] == "right"  # its neighbour column
        result = run_meshtastic(base + 1, "--set", "lora.hop_limit", "5", "--set-owner", "Right Pi")
        assert result.returncode == 0, result.stderr
    finally:
        stop(process)
    process, lines = start(scenario, base, tmp_path / "state")
    try:
        exported = yaml.safe_load(run_meshtastic(base + 1, "--export-config").stdout)
    finally:
        stop(process)
    assert exported["config"]["lora"]["hopLimit"] == 5
    assert exported["owner"] == "Right Pi"
