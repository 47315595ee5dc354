"""Answers from the destination radio itself, and retries that end in a NAK, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.virtual_radio.state import node_id

from .conftest import num_of, radios, run_meshtastic


def test_traceroute_lists_the_relay_both_ways(line_scenario):
    with radios(line_scenario) as net:
        a, b, c = (num_of(net, name) for name in "abc")
        result = run_meshtastic(net.port_of("a"), "--traceroute", node_id(c))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    towards = lines[lines.index("Route traced towards destination:") + 1]
    back = lines[lines.index("Route traced back to us:") + 1]
    # a's client has not heard b's or c's NodeInfo, so the CLI prints their numbers in hex
    assert towards == f"{node_id(a)} --> {b:08x} (6.5dB) --> {c:08x} (6.5dB)"
    assert back == f"{c:08x} --> {b:08x} (6.5dB) --> {node_id(a)} (6.5dB)"


def test_request_telemetry_is_answered_with_the_far_radios_metrics(pair_scenario):
    with radios(pair_scenario) as net:
        run_meshtastic(net.port_of("beta"), "--sendtext", "airtime for beta")  # beta has sent something
        result = run_meshtastic(net.port_of("alpha"), "--request-telemetry", "--dest", node_id(num_of(net, "beta")))
    assert result.returncode == 0, result.stderr
    assert "Telemetry received:" in result.stdout
    assert "Battery level: 101.00%" in result.stdout  # firmware's "powered, no battery"
    # beta's text (about 0.1 s on air) is a share of its last minute; the hourly TX share rounds to 0.00 %
    util_line = next(line for line in result.stdout.splitlines() if line.startswith("Total channel utilization"))
    assert float(util_line.split(":")[1].strip(" %")) > 0.0
    assert "Transmit air utilization: 0.00%" in result.stdout


def test_request_position_is_answered_at_the_default_channels_precision(pair_scenario):
    with radios(pair_scenario) as net:
        beta = net.call(lambda n: n.radio("beta").state.fixed_position)
        result = run_meshtastic(net.port_of("alpha"), "--request-position", "--dest", node_id(num_of(net, "beta")))
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("Position received"))
    assert line.endswith("precision:13")  # the firmware's default channel shares 13 bits
    lat, lon = (float(v) for v in line.split("(")[1].split(")")[0].split(","))
    assert abs(lat - beta.latitude_i * 1e-7) < 0.03 and abs(lon - beta.longitude_i * 1e-7) < 0.03
    assert (round(lat * 1e7), round(lon * 1e7)) != (beta.latitude_i, beta.longitude_i)  # truncated, not exact


def test_direct_message_to_an_absent_node_ends_in_max_retransmit_after_three_sends(tmp_path: Path):
    scenario = tmp_path / "alone.json"
    scenario.write_text(json.dumps({"nodes": [{"name": "alone", "lat": 52.37, "lon": 4.9}]}))
    with radios(scenario) as net:
        result = run_meshtastic(net.port_of("alone"), "--sendtext", "anyone?", "--dest", "!12345678", "--ack",
                                timeout=60)
        air = net.call(lambda n: n.air.counters)
    assert result.returncode == 0, result.stderr
    assert "Received a NAK, error reason: MAX_RETRANSMIT" in result.stdout
    assert air.transmissions == 3  # the first send and two retries (NUM_RELIABLE_RETX = 3)
