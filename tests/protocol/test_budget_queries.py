"""Budget queries about the future must not change the budget (the IP-link stall of the power-cut runs).

``get_timer`` asks a link's budget when its next queued frame could go, and that frame can be a
takedown repeat a minute ahead. The token bucket used to refill up to that future time and move
its stamp there, so after one burst no refill happened until the real clock caught up: in
``benchmarks/reliability_ip_stall.py`` the source stopped answering for ~56 s with a ready data job.
The airtime ledger expired its entries as of the queried time, so it could under-count the real
rolling hour.
"""

from __future__ import annotations

from node.artwork import Takedown
from node.protocol.ledger import AirtimeLedger, TokenBucket
from tests import factories
from tests.protocol.harness import Medium, Mesh


def test_a_future_query_does_not_stop_the_bucket_refilling():
    bucket = TokenBucket(rate=100.0, burst=200.0, now=0.0)
    assert bucket.available_at(200, 60.0) == 60.0  # "when could a frame go at t=60?"
    assert bucket.take(200, 0.0)
    assert bucket.available_at(100, 1.0) == 1.0  # one second of refill at the real clock
    assert bucket.take(100, 1.0)


def test_a_future_query_does_not_take_entries_off_the_ledger():
    ledger = AirtimeLedger(limit_s=10.0, window_s=100.0)
    ledger.record(6.0, 0.0)
    assert ledger.available_at(6.0, 200.0) == 200.0  # by then the first frame left the books
    assert ledger.available_at(6.0, 50.0) == 106.0  # but at t=50 it is still on them
    assert ledger.used(50.0) == 6.0


def test_a_queued_takedown_repeat_does_not_stall_an_ip_transfer():
    mesh = Mesh(5, [Medium("mqtt", kind="ip")], config_overrides={"trickle_imin_s": 0.5})
    for name in ("source", "victim"):
        mesh.add_node(name)
    mesh.connect("mqtt", "source", "victim")
    source = mesh.nodes["source"].engine
    assert source is not None
    old = source.ingest_bundle(factories.make_bundle(2000, "old"), mesh.now)
    mesh.run(600, stop=lambda: mesh.complete(old))
    assert mesh.complete(old)
    source.apply_takedown(Takedown.create(factories.curator_key(), old, "withdrawn", 3), mesh.now)
    mesh.run(mesh.now + 5)  # the first takedown frame went out; two repeats wait 60 s and 120 s ahead
    fresh = source.ingest_bundle(factories.make_bundle(30_000, "fresh"), mesh.now)
    started = mesh.now
    mesh.run(started + 45, stop=lambda: mesh.complete(fresh))
    # 30 kB at the 2000 B/s cap is ~16 s of sending; before the fix the source stalled after
    # one burst until the first repeat was due, 60 s after the takedown
    assert mesh.complete(fresh), "the transfer stalled behind a takedown repeat queued far ahead"
