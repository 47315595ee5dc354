"""The firmware's contention rules, once (RadioInterface.cpp), for every host."""

import random

from simulator.channel.contention import (
    CW_MAX,
    arduino_map,
    cw_size,
    redrawn_deadline,
    relay_delay,
    tx_delay_slots,
    utilisation_cw,
    worst_relay_delay,
)


def test_map_truncates_the_float_then_divides_toward_zero_as_c_does():
    assert arduino_map(-2.5, -20, 10, 3, 8) == 6  # (long)-2.5 = -2: 18·5/30 = 3; a float formula gives 5
    assert arduino_map(-25.0, -20, 10, 3, 8) == 3  # -25/30 truncates to 0, not -1
    assert arduino_map(-30.0, -20, 10, 3, 8) == 2
    assert cw_size(-30.0) == 3 and cw_size(25.0) == CW_MAX  # clamped to the window


def test_utilisation_window_grows_with_the_channel_load():
    assert [utilisation_cw(p) for p in (0, 19.9, 20, 59.9, 100, 130)] == [3, 3, 4, 5, 8, 8]
    rng = random.Random(1)
    assert all(0 <= tx_delay_slots(0.0, rng) < 8 for _ in range(200))
    assert max(tx_delay_slots(100.0, rng) for _ in range(2000)) > 200


def test_routers_relay_early_and_everyone_else_after_the_router_window():
    rng = random.Random(2)
    slot = 0.1
    early = [relay_delay(True, 10.0, slot, rng) for _ in range(200)]
    late = [relay_delay(False, 10.0, slot, rng) for _ in range(200)]
    assert max(early) < 2 * CW_MAX * slot <= min(late)
    assert max(late) < worst_relay_delay(10.0, slot)
    assert redrawn_deadline(100.0, 1.0, 0.5, 10.0, slot) == 1.0 + 2 * worst_relay_delay(10.0, slot)
