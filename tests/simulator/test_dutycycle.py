"""The rolling-hour duty-cycle ledger."""

from simulator.channel.dutycycle import HOUR, DutyCycleLedger, max_rolling_share
from simulator.clock import TICKS_PER_SECOND as S


def test_strict_rule_refuses_a_send_that_would_pass_the_limit():
    ledger = DutyCycleLedger(0.10)
    ledger.record(0, 359 * S)
    assert ledger.allows(400 * S, 1 * S)
    assert not ledger.allows(400 * S, 2 * S)


def test_firmware_rule_refuses_only_once_above_the_limit():
    ledger = DutyCycleLedger(0.10, rule="firmware")
    ledger.record(0, 359 * S)
    assert ledger.allows(400 * S, 10 * S)  # below 10 % now, so the firmware lets it pass
    ledger.record(400 * S, 410 * S)
    assert not ledger.allows(500 * S, 1 * S)


def test_old_transmissions_leave_the_window():
    ledger = DutyCycleLedger(0.10)
    ledger.record(0, 360 * S)
    assert not ledger.allows(1000 * S, 1 * S)
    t = ledger.next_allowed(1000 * S, 1 * S)
    assert ledger.allows(t, 1 * S)
    assert not ledger.allows(t - 1, 1 * S)
    assert t == HOUR + 1 * S  # one second of the first frame must slide out


def test_max_rolling_share():
    hist = [(0, 100 * S), (200 * S, 300 * S), (HOUR + 150 * S, HOUR + 200 * S)]
    # busiest: the hour ending at 300 s (200 s); the one ending at HOUR+200 s holds 100 + 50 s
    assert max_rolling_share(hist) == (200 * S) / HOUR
    clipped = [(0, 100 * S), (HOUR + 50 * S, HOUR + 300 * S)]
    # the hour ending at HOUR+300 s starts at 300 s: none of the first frame, 250 s of the second
    assert max_rolling_share(clipped) == (250 * S) / HOUR
    partial = [(0, 100 * S), (HOUR + 50 * S, HOUR + 60 * S)]
    # ending at HOUR+60 s: 40 s of the first frame are still inside, plus 10 s
    assert max_rolling_share(partial) == (100 * S) / HOUR
    assert max_rolling_share([]) == 0.0


def test_used_keeps_a_running_total_that_matches_the_sum_over_the_window():
    import random

    rng = random.Random(5)
    ledger = DutyCycleLedger(0.1, window=1000)
    spans: list[tuple[int, int]] = []
    t = 0
    for _ in range(400):
        t += rng.randrange(1, 60)
        start, end = t, t + rng.randrange(1, 40)
        ledger.record(start, end)
        spans.append((start, end))
        later = end + rng.randrange(0, 900)
        t = later  # the ledger's clock only moves forward
        for now in (start, start + 1, (start + end) // 2, end, later):
            window_start = now - 1000
            expected = sum(max(0, min(e, now) - max(s, window_start)) for s, e in spans if s < now)
            assert ledger.used(now) == expected
