"""Faults while works travel: the MQTT broker restarted, the radio's TCP connection dropped.

Both runs use two real daemons (``python -m node node run`` subprocesses): a *source* that
gets fresh works uploaded to it one after another, and a *sink* that must end up with every one
of them, byte for byte. The fault is injected while a transfer is in flight (the sink already
holds part of the current work). At the end the run counts works delivered and lost, and
whether either daemon died (crashed).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from node.artwork.bundle import Bundle
from node.store.sqlite import SqliteStore
from simulator.virtual_radio import NetworkOptions, load_scenario
from simulator.virtual_radio.background import BackgroundRadios
from tests.daemon.harness import Daemon, write_config
from tests.reliability.power_cuts import chunks_held
from tests.reliability.rig import Tally, fresh_bundle, mqtt_daemon, served_correctly, upload, wait_for
from tests.transport.broker import Mosquitto

RADIO_ENGINE = ("[engine]\ntrickle_imin_s = 1.0\ntrickle_doublings = 2\nbeacon_interval_s = 60.0\n"
                "request_retry_max_s = 4.0\n")


class FaultRun:
    """Source, sink, and the works that must all arrive."""

    def __init__(self, source: Daemon, sink: Daemon, seed: int) -> None:
        self.source = source
        self.sink = sink
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.works: list[Bundle] = []

    def daemons(self) -> list[Daemon]:
        """Both daemons (for cleanup)."""
        return [self.source, self.sink]

    def send_work(self, size: int) -> Bundle:
        """Upload a fresh work to the source; returns it once the sink holds part of it."""
        bundle = fresh_bundle(f"fault-{len(self.works)}", size, len(self.works))
        assert upload(self.source.url, bundle.to_bytes()) == 303
        self.works.append(bundle)
        wait_for(lambda: chunks_held(self.sink.data_dir, bundle.work_id) >= 1, 120, 0.01, "the transfer to start")
        return bundle

    def note_mid_transfer(self, bundle: Bundle) -> None:
        """Count whether the fault landed while the sink held only part of ``bundle``."""
        held = chunks_held(self.sink.data_dir, bundle.work_id)
        if held < len(bundle.chunks()):
            self.tally.add("faults-mid-transfer")

    def finish(self, timeout: float) -> Tally:
        """Wait for every work at the sink, then count delivered, lost and crashed."""
        deadline = time.monotonic() + timeout
        for bundle in self.works:
            while not served_correctly(self.sink, bundle) and time.monotonic() < deadline:
                time.sleep(0.2)
        for daemon in self.daemons():
            assert daemon.process is not None
            if daemon.process.poll() is not None:
                self.tally.add("crashed")
        delivered = [b for b in self.works if served_correctly(self.sink, b)]
        self.tally.add("works-sent", len(self.works))
        self.tally.add("works-delivered", len(delivered))
        self.tally.add("works-lost", len(self.works) - len(delivered))
        return self.tally

    def stop(self) -> None:
        """SIGTERM both daemons; count unclean exits; check the sink's store."""
        for daemon in self.daemons():
            if daemon.process is not None and daemon.process.poll() is None and daemon.stop() != 0:
                self.tally.add("unclean-exits")
        store = SqliteStore(self.sink.data_dir)
        try:
            self.tally.add("integrity-demoted", len(store.verify_integrity()))
        finally:
            store.close()


def broker_restarts(workdir: Path, broker: Mosquitto, restarts: int, seed: int = 3) -> Tally:
    """Restart the broker ``restarts`` times, each time mid-transfer of a fresh 40 KB work."""
    source = mqtt_daemon(workdir, "source", broker.port, 20_000.0)
    sink = mqtt_daemon(workdir, "sink", broker.port, 20_000.0)
    run = FaultRun(source, sink, seed)
    try:
        source.start()
        sink.start()
        for _ in range(restarts):
            bundle = run.send_work(40_000)
            broker.stop()
            run.note_mid_transfer(bundle)
            time.sleep(run.rng.uniform(0.1, 1.5))
            broker.start()
            run.tally.add("broker-restarts")
        tally = run.finish(timeout=60 + 10 * restarts)
        tally.add("sink-mqtt-reconnects", sink.status()["links"]["mqtt"]["transport"]["reconnects"])
        tally.add("source-mqtt-reconnects", source.status()["links"]["mqtt"]["transport"]["reconnects"])
        run.stop()
        return tally
    finally:
        kill_all(run.daemons())


def radio_pair_scenario(path: Path) -> Path:
    """Two sites in range of each other."""
    nodes = [{"name": n, "lat": 52.37 + i * 0.001, "lon": 4.90, "antenna_m": 10} for i, n in enumerate(("a", "b"))]
    path.write_text(json.dumps({"nodes": nodes, "links": [{"from": "a", "to": "b", "snr": 6.5, "rssi": -95}]}))
    return path


def radio_daemon(workdir: Path, name: str, port: int) -> Daemon:
    """A daemon on virtual radio ``name`` (TCP device API on ``port``)."""
    data = workdir / name
    data.mkdir(parents=True, exist_ok=True)
    radio = (f'[radio]\ndevice = "tcp:127.0.0.1:{port}"\npreset = "SHORT_FAST"\nduty_cycle_share = 1.0\n'
             "connect_timeout_s = 10.0\nclose_timeout_s = 3.0\n")
    return Daemon(write_config(workdir / f"{name}.toml", data, radio + RADIO_ENGINE), data)


def drop_client(radios: BackgroundRadios, name: str) -> object:
    """Close the radio's TCP client (the radio reboots / the cable is pulled); the old session."""
    def drop(net):  # type: ignore[no-untyped-def]
        client = net.radio(name).client
        if client is not None:
            client.close()
        return client

    return radios.call(drop)


def radio_reconnected(radios: BackgroundRadios, name: str, old: object) -> bool:
    """A new API client finished its handshake with radio ``name``."""
    def check(net):  # type: ignore[no-untyped-def]
        client = net.radio(name).client
        return client is not None and client is not old and client.configured

    return bool(radios.call(check))


def radio_drops(workdir: Path, drops: int, seed: int = 5, work_size: int = 3000) -> Tally:
    """Drop a radio's TCP client ``drops`` times while works travel from radio a to radio b."""
    options = NetworkOptions(base_port=0, announce=False, seed=seed, preset="SHORT_FAST")
    with BackgroundRadios(load_scenario(str(radio_pair_scenario(workdir / "pair.json"))), options) as radios:
        source = radio_daemon(workdir, "a", radios.port_of("a"))
        sink = radio_daemon(workdir, "b", radios.port_of("b"))
        run = FaultRun(source, sink, seed)
        try:
            source.start()
            sink.start()
            bundle = run.send_work(work_size)
            for drop in range(drops):
                try:
                    if chunks_held(sink.data_dir, bundle.work_id) == len(bundle.chunks()):
                        bundle = run.send_work(work_size)  # keep a transfer in flight
                except AssertionError as exc:  # counted and described; the final count shows the loss
                    run.tally.add("stalled")
                    links = [d.status()["links"]["radio"] for d in (source, sink)]
                    run.tally.notes.append(f"after {drop} drops: {exc}; source radio {links[0]}; sink radio {links[1]}")
                    break
                name = run.rng.choice(("a", "b"))
                run.note_mid_transfer(bundle)
                old = drop_client(radios, name)
                run.tally.add(f"drops-radio-{name}")
                wait_for(lambda n=name, o=old: radio_reconnected(radios, n, o), 60, 0.1, f"radio {name} to reconnect")
                run.tally.add("reconnected-after-drop")
                time.sleep(run.rng.uniform(0.5, 2.0))
            tally = run.finish(timeout=120 + 5 * drops)
            tally.add("airtime-source-last-hour-s", int(source.status()["links"]["radio"]["airtime_last_hour_s"]))
            run.stop()
            return tally
        finally:
            kill_all(run.daemons())


def kill_all(daemons: list[Daemon]) -> None:
    """Kill any daemon still running (cleanup after a failure)."""
    for daemon in daemons:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
