"""Airtime ledger, token bucket and Trickle timer in isolation."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from node.protocol.ledger import AirtimeLedger, TokenBucket
from node.protocol.trickle import TrickleTimer


def max_window_use(history, window=3600.0):
    """The largest airtime overlapping any window, checked at every start/end edge."""
    edges = sorted({t for s, a in history for t in (s, s + a)})
    worst = 0.0
    for edge in edges:
        for lo in (edge, edge - window):
            hi = lo + window
            worst = max(worst, sum(max(0.0, min(s + a, hi) - max(s, lo)) for s, a in history))
    return worst


@given(st.lists(st.tuples(st.floats(0.0, 400.0), st.floats(0.05, 15.0)), min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_a_greedy_sender_never_exceeds_the_limit_in_any_window(steps):
    ledger = AirtimeLedger(limit_s=60.0, window_s=3600.0)
    now = 0.0
    sent = []
    for gap, airtime in steps:
        now += gap
        at = ledger.available_at(airtime, now)
        assert at >= now
        now = at
        ledger.record(airtime, now)
        sent.append((now, airtime))
        now += airtime
    assert max_window_use(sent) <= 60.0 + 1e-6


def test_deferred_work_gets_a_time_not_a_refusal():
    ledger = AirtimeLedger(limit_s=10.0)
    for i in range(5):
        ledger.record(2.0, float(i))
    at = ledger.available_at(2.0, 10.0)
    assert at == 0.0 + 2.0 + 3600.0  # the first booking leaves the books an hour after it ended
    assert ledger.available_at(11.0, 10.0) == math.inf
    assert ledger.refund(2.0, 10.0)
    assert ledger.available_at(2.0, 10.0) == 10.0


def test_token_bucket_caps_the_rate():
    bucket = TokenBucket(rate=100.0, burst=200.0, now=0.0)
    assert bucket.take(200, 0.0)
    assert not bucket.take(1, 0.0)
    assert bucket.available_at(50, 0.0) == 0.5
    assert bucket.take(50, 0.5)


def test_trickle_quiet_consistent_network_sends_a_few_per_hour():
    timer = TrickleTimer(30.0, 7, 1, random.Random(1), 0.0)
    sent = []
    now = 0.0
    while now < 6 * 3600:
        now = timer.deadline()
        if timer.poll(now):
            sent.append(now)
    last_hour = [t for t in sent if t > 5 * 3600]
    assert 1 <= len(last_hour) <= 3
    assert timer.interval == 30.0 * 2**7


def test_trickle_suppresses_when_enough_consistent_adverts_are_heard():
    timer = TrickleTimer(30.0, 4, 1, random.Random(2), 0.0)
    sent = 0
    now = 0.0
    while now < 3600:
        now = timer.deadline()
        timer.hear_consistent()
        sent += timer.poll(now)
    assert sent == 0


def test_trickle_inconsistency_resets_to_imin():
    timer = TrickleTimer(30.0, 6, 1, random.Random(3), 0.0)
    timer.poll(1000.0)
    assert timer.interval > 30.0
    timer.hear_inconsistent(1000.0)
    assert timer.interval == 30.0
    assert 1015.0 <= timer.deadline() < 1030.0


def test_trickle_starts_at_imin_so_a_fresh_node_speaks_early():
    for seed in range(20):
        timer = TrickleTimer(30.0, 7, 1, random.Random(seed), 0.0)
        assert timer.interval == 30.0
        assert 15.0 <= timer.deadline() < 30.0


def test_trickle_reset_after_the_advert_went_out_schedules_another_within_imin():
    timer = TrickleTimer(30.0, 7, 1, random.Random(4), 0.0)
    fired = timer.deadline()
    assert timer.poll(fired)
    timer.reset(fired + 1.0)  # news after this interval's advert: say it again soon
    assert fired + 1.0 + 15.0 <= timer.deadline() < fired + 1.0 + 30.0
