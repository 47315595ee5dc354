"""The daemon's trusted wall time (NTP marker or radio GPS) reaches the engine; revocations the CLI
stored into a running node's data directory are handed to the engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

from node.artwork import Revocation
from node.daemon.clock import GPS_VALID_S, TrustedClock
from node.daemon.driver import EngineDriver
from node.daemon.store_watch import StoreWatch
from node.eventhub import EventHub
from node.store.sqlite import SqliteStore
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
        driver = EngineDriver(engine, EventHub(), trusted_clock=lambda: 1_800_000_000.0)  # type: ignore[arg-type]
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
