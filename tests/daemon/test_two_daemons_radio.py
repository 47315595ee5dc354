"""Two real daemons, each on its own virtual Meshtastic radio (TCP device API), exchange a work."""

import json

import pytest

from node.store.sqlite import SqliteStore
from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios
from tests.daemon.harness import Daemon, write_config
from tests.factories import make_bundle

ENGINE = "[engine]\ntrickle_imin_s = 1.0\ntrickle_doublings = 2\nbeacon_interval_s = 30.0\nrequest_retry_max_s = 5.0\n"


@pytest.fixture
def radios(tmp_path):
    path = tmp_path / "pair.json"
    nodes = [{"name": n, "lat": 52.37 + i * 0.001, "lon": 4.90, "antenna_m": 10} for i, n in enumerate(("a", "b"))]
    path.write_text(json.dumps({"nodes": nodes, "links": [{"from": "a", "to": "b", "snr": 6.5, "rssi": -95}]}))
    options = NetworkOptions(base_port=0, announce=False, seed=5, preset="SHORT_FAST")
    with BackgroundRadios(load_scenario(str(path)), options) as net:
        yield net


def radio_node(tmp_path, name, port, bundle=None):
    data = tmp_path / name
    data.mkdir()
    if bundle is not None:
        store = SqliteStore(data)
        store.ingest_bundle(bundle)
        store.close()
    radio = f'[radio]\ndevice = "tcp:127.0.0.1:{port}"\npreset = "SHORT_FAST"\nduty_cycle_share = 1.0\n'
    return Daemon(write_config(tmp_path / f"{name}.toml", data, radio + ENGINE), data)


def test_two_daemons_exchange_a_work_over_virtual_radios(tmp_path, radios, daemons):
    bundle = make_bundle(2000, "radio")
    a = radio_node(tmp_path, "a", radios.port_of("a"), bundle)
    b = radio_node(tmp_path, "b", radios.port_of("b"))
    daemons += [a, b]
    a.start()
    b.start()
    status = b.wait_status(lambda s: s["works"]["complete"] == 1, timeout=90, interval=0.2)
    link = status["links"]["radio"]
    assert link["kind"] == "lora" and link["transport"]["connected"]
    assert link["transport"]["radio"]["region"] == "EU_868"
    assert a.status()["links"]["radio"]["airtime_last_hour_s"] > 0
    assert b.stop() == 0 and a.stop() == 0
    store = SqliteStore(b.data_dir)
    try:
        assert store.content(bundle.work_id) == bundle.content
    finally:
        store.close()
