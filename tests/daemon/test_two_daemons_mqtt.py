"""Two real daemons (subprocesses) gossiping over a real Mosquitto broker."""

import signal

from node.store.sqlite import SqliteStore
from tests.daemon.harness import Daemon, mqtt_section, write_config
from tests.factories import make_bundle


def seeded_node(tmp_path, name, broker, bundle=None, rate=20_000.0, extra=""):
    data = tmp_path / name
    data.mkdir()
    if bundle is not None:
        store = SqliteStore(data)
        store.ingest_bundle(bundle)
        store.close()
    config = write_config(tmp_path / f"{name}.toml", data, mqtt_section(broker.port, rate) + extra)
    return Daemon(config, data)


def complete(status):
    return status["works"]["complete"] == 1


def partial_chunks(status):
    return status["works"]["chunks_held"] if status["works"]["partial"] else 0


def test_two_daemons_exchange_a_work(tmp_path, broker, daemons):
    bundle = make_bundle(6000, "exchange")
    a = seeded_node(tmp_path, "a", broker, bundle)
    b = seeded_node(tmp_path, "b", broker)
    daemons += [a, b]
    a.start()
    b.start()
    status = b.wait_status(complete, timeout=60)
    assert status["links"]["mqtt"]["transport"]["connected"] is True
    assert status["links"]["mqtt"]["frames_in"] > 0
    a_status = a.wait_status(lambda s: s["peers_heard"] >= 1, timeout=30)
    assert a_status["links"]["mqtt"]["frames_out"] > 0
    metrics = b.metrics()
    assert 'meshart_works{state="complete"} 1' in metrics
    assert 'meshart_transport_connected{link="mqtt"} 1' in metrics
    assert b.stop() == 0 and a.stop() == 0
    store = SqliteStore(b.data_dir)
    try:
        assert store.content(bundle.work_id) == bundle.content
    finally:
        store.close()


def test_broker_restart_mid_transfer_still_completes(tmp_path, broker, daemons):
    bundle = make_bundle(40_000, "restart")
    a = seeded_node(tmp_path, "a", broker, bundle, rate=6000.0)
    b = seeded_node(tmp_path, "b", broker, rate=6000.0)
    daemons += [a, b]
    a.start()
    b.start()
    b.wait_status(lambda s: partial_chunks(s) >= 5, timeout=60, interval=0.02)
    broker.stop()
    b.wait_status(lambda s: not s["links"]["mqtt"]["transport"]["connected"], timeout=20)
    held_during_outage = partial_chunks(b.status())
    broker.start()
    status = b.wait_status(complete, timeout=90)
    assert held_during_outage < len(bundle.chunks())  # the outage really was mid-transfer
    assert status["links"]["mqtt"]["transport"]["reconnects"] >= 1
    assert a.status()["links"]["mqtt"]["transport"]["reconnects"] >= 1
    assert b.stop() == 0 and a.stop() == 0
    store = SqliteStore(b.data_dir)
    try:
        assert store.content(bundle.work_id) == bundle.content
    finally:
        store.close()


def test_malformed_mqtt_payloads_are_dropped_and_counted(tmp_path, broker, daemons):
    b = seeded_node(tmp_path, "b", broker)
    daemons.append(b)
    b.start()
    b.wait_status(lambda s: s["links"]["mqtt"]["transport"]["connected"])
    broker.publish_raw("meshart/test/v1/frame/intruder", b"\x13" * 300)  # oversize: transport drop
    broker.publish_raw("meshart/test/v1/frame/intruder", b"\x13\x00")  # truncated frame: engine drop
    broker.publish_raw("meshart/test/v1/frame/intruder", b"\xf1garbage")  # unknown version: engine drop
    status = b.wait_status(lambda s: s["transport_drops"].get("mqtt", {}).get("oversize") == 1
                           and sum(s["drops"].values()) >= 2, timeout=20)
    assert status["links"]["mqtt"]["transport"]["connected"] is True
    assert 'meshart_drops_total{layer="transport",link="mqtt",reason="oversize"} 1' in b.metrics()
    assert b.stop() == 0


def test_sigterm_mid_transfer_resumes_from_stored_chunks(tmp_path, broker, daemons):
    bundle = make_bundle(40_000, "resume")
    a = seeded_node(tmp_path, "a", broker, bundle, rate=6000.0)
    b = seeded_node(tmp_path, "b", broker, rate=6000.0)
    daemons += [a, b]
    a.start()
    b.start()
    b.wait_status(lambda s: partial_chunks(s) >= 10, timeout=60, interval=0.02)
    assert b.stop(signal.SIGTERM) == 0  # clean exit: the store was closed
    assert "store closed" in b.log()
    store = SqliteStore(b.data_dir)
    try:
        before = len(store.have_chunks(bundle.work_id))
        assert 10 <= before < len(bundle.chunks())
    finally:
        store.close()
    b.start()
    after = partial_chunks(b.status()) or len(bundle.chunks())
    assert after >= before
    b.wait_status(complete, timeout=90)
    assert b.stop() == 0 and a.stop() == 0
