"""Short memory soak: 20 works over amsterdam for 2 simulated hours (long run:
benchmarks/soak_memory.py, 200 works for 24 hours)."""

from __future__ import annotations

from benchmarks.soak_memory import soak


def test_engine_and_store_memory_is_flat_after_every_work_arrived():
    result = soak(hours=3, works=20, size=1024)
    assert result.complete_nodes == 4 and result.all_complete_h is not None
    assert result.all_complete_h <= 2
    assert len(result.samples) == 4
    assert result.growth_after(result.all_complete_h) <= 64 * 1024
