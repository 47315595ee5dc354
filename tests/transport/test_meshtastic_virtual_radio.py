"""The Meshtastic transport through the real meshtastic library against virtual radios (TCP API)."""

import asyncio
import json

import pytest

from node.transport.meshtastic_radio import MeshtasticTransport, RadioSettings
from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios
from tests.transport.hosts import RecordingHost


@pytest.fixture
def radios(tmp_path):
    """Two virtual radios that hear each other, on free ports."""
    path = tmp_path / "pair.json"
    nodes = [{"name": n, "lat": 52.37 + i * 0.001, "lon": 4.90, "antenna_m": 10} for i, n in enumerate(("a", "b"))]
    path.write_text(json.dumps({"nodes": nodes, "links": [{"from": "a", "to": "b", "snr": 6.5, "rssi": -95}]}))
    with BackgroundRadios(load_scenario(str(path)), NetworkOptions(base_port=0, announce=False, seed=3)) as net:
        yield net


async def wait_until(condition, timeout=30.0):
    async def poll():
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_frames_cross_between_two_radios_with_signal_quality(radios):
    a = MeshtasticTransport("radio", RadioSettings(f"tcp:127.0.0.1:{radios.port_of('a')}", preset="MEDIUM_FAST"))
    b = MeshtasticTransport("radio", RadioSettings(f"tcp:127.0.0.1:{radios.port_of('b')}", preset="MEDIUM_FAST"))
    host_a, host_b = RecordingHost(), RecordingHost()
    tasks = [asyncio.create_task(a.run(host_a)), asyncio.create_task(b.run(host_b))]
    try:
        await wait_until(lambda: a.state.connected and b.state.connected)
        assert a.state.details["radio"]["region"] == "EU_868"
        assert a.state.details["radio"]["preset"] == "MEDIUM_FAST"
        host_a.queue("radio", b"\x13" + bytes(range(200)), b"\x13second")
        a.wake()
        await host_b.wait_for(2, timeout=30)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    frames = [d for _, d, _ in host_b.received]
    assert frames == [b"\x13" + bytes(range(200)), b"\x13second"]
    rx = host_b.received[0][2]
    assert rx.sender and rx.sender.startswith("!") and rx.snr == pytest.approx(6.5, abs=0.5)
    assert host_a.received == []  # the sender does not hear itself
    assert a.state.frames_out == 2 and b.state.frames_in == 2


async def test_traffic_resumes_after_the_radio_drops_the_connection(radios):
    """The library re-opens a dropped TCP link itself; a frame written in that window is lost (the
    engine's retries repair that), so offer frames like the engine would until one gets through."""
    a = MeshtasticTransport("radio", RadioSettings(f"tcp:127.0.0.1:{radios.port_of('a')}", preset="MEDIUM_FAST",
                                                   backoff_initial_s=0.2, backoff_max_s=1.0))
    b = MeshtasticTransport("radio", RadioSettings(f"tcp:127.0.0.1:{radios.port_of('b')}", preset="MEDIUM_FAST"))
    host_a, host_b = RecordingHost(), RecordingHost()
    tasks = [asyncio.create_task(a.run(host_a)), asyncio.create_task(b.run(host_b))]
    try:
        await wait_until(lambda: a.state.connected and b.state.connected)
        radios.call(lambda net: net.radio("a").client.close())  # the radio reboots: TCP client dropped
        for attempt in range(60):
            host_a.queue("radio", b"\x13retry" + bytes([attempt]))
            a.wake()
            await asyncio.sleep(0.5)
            if host_b.received:
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert host_b.received and host_b.received[0][1].startswith(b"\x13retry")
