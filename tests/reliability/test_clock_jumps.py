"""Clock jumps: a Pi has no RTC, so its wall clock leaps when NTP syncs; the protocol must not care.

The engine runs on the loop's monotonic clock (``loop.time()``); these tests move the wall
clock (``time.time``) under two running daemons by decades in both directions mid-transfer, and
move the engine's own clock forward by days (a process stopped for a long time) mid-transfer.
"""

import time

from node.protocol import frames
from tests.factories import artist_key, make_bundle
from tests.protocol.harness import Medium, Mesh
from tests.reliability.inprocess import bus_pair, http_get, running, until

YEARS_56 = 56 * 365 * 86400


class LeapingWallClock:
    """``time.time`` that starts in January 1970 (a Pi without RTC) and leaps on demand."""

    def __init__(self, real) -> None:
        self.real = real
        self.offset = 100_000 - real()

    def __call__(self) -> float:
        return self.real() + self.offset


async def test_wall_clock_leaps_change_nothing(tmp_path, monkeypatch):
    clock = LeapingWallClock(time.time)
    monkeypatch.setattr(time, "time", clock)
    a, b = bus_pair(tmp_path)
    async with running(a, b):
        first = make_bundle(12_000, "before-ntp", artist=artist_key("clock-a"))
        await a.ingest(first.to_bytes())
        await until(lambda: len(b.store.have_chunks(first.work_id)) >= 5, 60, "the transfer to start")
        assert not b.store.is_complete(first.work_id)
        clock.offset += YEARS_56  # NTP sync: 1970 -> today, mid-transfer
        await until(lambda: b.store.is_complete(first.work_id), 90, "the transfer across the leap")
        clock.offset -= 3 * 3600  # a correction backwards
        second = make_bundle(8000, "after-step-back", artist=artist_key("clock-b"))
        await b.ingest(second.to_bytes())
        await until(lambda: a.store.is_complete(second.work_id), 90, "the transfer after the step back")
        status = b.status()
        assert status["engine"]["errors"] == 0 and a.status()["engine"]["errors"] == 0
        assert 0 <= status["uptime_s"] < 600  # monotonic, not "56 years"
        assert not {"bad-frame", "bad-signature", "expired"} & set(status["drops"])
        for path in ("/", f"/works/{first.work_id.hex()}", f"/works/{second.work_id.hex()}", "/network"):
            head, _ = await http_get(b.http_port, path)
            assert " 200 " in head.splitlines()[0], path
        head, body = await http_get(b.http_port, f"/media/{first.work_id.hex()}")
        assert body == first.content


def test_engine_clock_leaping_forward_by_days_resumes_without_a_burst():
    """The loop clock is monotonic but may leap forward (a process stopped for days). Transfers
    resume, and the leap releases no backlog: no catch-up storm of timers, adverts or beacons."""
    mesh = Mesh(7, [Medium("radio", preset="SHORT_FAST")])
    for name in ("a", "b"):
        mesh.add_node(name, beacon_interval_s=60.0)
    mesh.connect("radio", "a", "b")
    bundle = make_bundle(8000, "leap")
    mesh.nodes["a"].engine.ingest_bundle(bundle, mesh.now)
    store_b = mesh.nodes["b"].store
    mesh.run(until=3600, stop=lambda: len(store_b.have_chunks(bundle.work_id)) >= 5)
    assert not store_b.is_complete(bundle.work_id)
    sent_before = len(mesh.sent)
    leap_at = mesh.now
    mesh.now += 10 * 86400  # ten days pass in one step
    mesh.run(until=mesh.now + 7200, stop=lambda: store_b.is_complete(bundle.work_id))
    assert store_b.is_complete(bundle.work_id)
    after = [s for s in mesh.sent[sent_before:] if s.time < leap_at + 10 * 86400 + 10]
    # Half-duplex radios could send ~100 frames in ten seconds; a catch-up storm of missed
    # beacon or Trickle intervals would show up here. What is sent is the transfer itself.
    kinds = [s.data[0] & 0x0F for s in after]
    assert kinds.count(frames.KIND_STATUS) <= 2 and kinds.count(frames.KIND_ADVERT) <= 4
    assert mesh.spins < 1000
