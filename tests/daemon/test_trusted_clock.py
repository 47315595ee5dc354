"""The daemon's trusted wall time (NTP marker or radio GPS) reaches the engine; revocations the CLI
stored into a running node's data directory are handed to the engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.artwork import Revocation
from node.daemon.clock import GPS_VALID_S, TrustedClock
from node.daemon.driver import EngineDriver
from node.daemon.store_watch import StoreWatch
from node.eventhub import EventHub
from node.store.sqlite import SqliteStore
from node.transport.base import RadioMetrics
from tests import factories


def test_the_clock_is_trusted_only_while_ntp_or_a_recent_gps_fix_vouches(tmp_path: Path) -> None:
    marker = tmp_path / "synchronized"
    mono = [100.0]
    clock = TrustedClock(marker, wall=lambda: 1_800_000_000.0, monotonic=lambda: mono[0])
    assert clock() is None and clock.source() is None  # a Pi without RTC before NTP: not trusted
    marker.touch()
    assert clock() == 1_800_000_000.0 and clock.source() == "ntp"
    marker.unlink()
    clock.note_gps(1_700_000_000.0, 100.0)
    mono[0] = 160.0
    assert clock() == 1_700_000_060.0 and clock.source() == "gps"
    mono[0] = 100.0 + GPS_VALID_S + 1
    assert clock() is None


class Recorder:
    """Just enough of an engine for the driver."""

    def __init__(self) -> None:
        self.trusted: list[tuple[float | None, float]] = []
        self.revoked: list[Revocation] = []
        self.metrics = 0

    def note_radio_metrics(self, link: str, utilisation: float | None, own_tx: float | None, now: float) -> None:
        self.metrics += 1

    def set_trusted_time(self, wall_s: float | None, now: float) -> None:
        self.trusted.append((wall_s, now))

    def apply_revocation(self, revocation: Revocation, now: float) -> None:
        self.revoked.append(revocation)

    def next_event(self) -> None:
        return None

    def get_timer(self) -> None:
        return None


def test_the_driver_passes_trusted_time_and_store_watch_passes_cli_revocations(tmp_path: Path) -> None:
    async def main() -> Recorder:
        engine = Recorder()
        marker = tmp_path / "synchronized"  # systemd-timesyncd's marker: NTP vouches
        marker.touch()
        clock = TrustedClock(marker, wall=lambda: 1_800_000_000.0)
        driver = EngineDriver(engine, EventHub(), trusted_clock=clock)  # type: ignore[arg-type]
        driver.start()
        store = SqliteStore(tmp_path)
        watch = StoreWatch(store, driver)
        cli = SqliteStore(tmp_path)  # `mesh-art ingest-revocation` from another process
        revocation = Revocation.create(factories.curator_key(), factories.artist_key().public, "artist", "", 1)
        cli.apply_revocation(revocation)
        cli.close()
        watch.poll()
        driver.close()
        store.close()
        return engine

    engine = asyncio.run(main())
    assert len(engine.trusted) == 1 and engine.trusted[0][0] == 1_800_000_000.0
    assert [r.key for r in engine.revoked] == [factories.artist_key().public.raw]


def test_only_the_radios_own_gps_fix_vouches_for_the_time() -> None:
    from google.protobuf.json_format import MessageToDict
    from meshtastic.protobuf import mesh_pb2

    from node.transport.meshtastic_radio import gps_fix_time

    def as_library_sees_it(source: int) -> dict:  # the meshtastic library keeps positions as MessageToDict
        return MessageToDict(mesh_pb2.Position(latitude_i=523_740_000, time=1_800_000_100, location_source=source))

    assert gps_fix_time(as_library_sees_it(mesh_pb2.Position.LOC_INTERNAL)) == 1_800_000_100
    assert gps_fix_time(as_library_sees_it(mesh_pb2.Position.LOC_MANUAL)) is None  # a fixed position
    assert gps_fix_time(as_library_sees_it(mesh_pb2.Position.LOC_EXTERNAL)) is None  # a phone's, say
    assert gps_fix_time({}) is None


def test_a_gps_fix_in_the_radio_metrics_makes_the_engine_trust_the_time(tmp_path: Path) -> None:
    async def main() -> Recorder:
        engine = Recorder()
        clock = TrustedClock(tmp_path / "no-ntp-marker")
        driver = EngineDriver(engine, EventHub(), trusted_clock=clock)  # type: ignore[arg-type]
        driver.start()
        driver.radio_metrics("radio", RadioMetrics(2.0, 0.5, None))
        assert clock.source() is None
        driver.radio_metrics("radio", RadioMetrics(2.0, 0.5, 1_800_000_100.0))
        assert clock.source() == "gps"
        driver.close()
        return engine

    engine = asyncio.run(main())
    assert engine.metrics == 2
    assert engine.trusted[-1][0] == pytest.approx(1_800_000_100.0, abs=5.0)
