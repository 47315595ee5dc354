"""Airtime cost of a work: frame counts and per-preset seconds."""

from __future__ import annotations

import pytest

from node.artwork import chunks
from node.artwork.cost import MANIFEST_PIECE, cost_table, format_duration, frame_payloads, work_cost
from node.lora import EU868_PRESETS


def test_frames_cover_manifest_and_content_exactly() -> None:
    payloads = frame_payloads(manifest_len=500, content_size=1000)
    # 500-byte manifest -> 223 + 223 + 54; 1000 bytes -> 224 * 4 + 104
    assert payloads == [231, 231, 62, 231, 231, 231, 231, 111]
    assert all(n <= chunks.MAX_FRAME_PAYLOAD for n in payloads)
    cost = work_cost(500, 1000)
    assert (cost.manifest_frames, cost.data_frames, cost.frames) == (3, 5, 8)


def test_airtime_is_the_sum_of_frame_airtimes_and_budget_is_360_s() -> None:
    cost = work_cost(1800, 24 * 1024)
    by_name = {c.preset: c for c in cost.presets}
    assert set(by_name) == set(EU868_PRESETS)
    payloads = frame_payloads(1800, 24 * 1024)
    for name, preset in EU868_PRESETS.items():
        pc = by_name[name]
        assert pc.airtime_s == pytest.approx(sum(preset.frame_airtime(n) for n in payloads))
        assert pc.hourly_budget_s == pytest.approx(360.0)
        assert pc.budget_share == pytest.approx(pc.airtime_s / 360.0)
        assert pc.seconds_at_limit == pytest.approx(pc.airtime_s * 10)
    # slower presets cost more
    assert by_name["LONG_SLOW"].airtime_s > by_name["LONG_FAST"].airtime_s > by_name["SHORT_FAST"].airtime_s


def test_manifest_piece_matches_the_protocol_codec() -> None:
    frames = pytest.importorskip("node.protocol.frames")
    assert MANIFEST_PIECE == frames.MANIFEST_PIECE_MAX
    assert chunks.CHUNK_SIZE == frames.DATA_MAX


def test_table_and_durations_read_well() -> None:
    assert format_duration(42.04) == "42.0 s"
    assert format_duration(425) == "7 min 05 s"
    assert format_duration(7380) == "2 h 03 min"
    lines = cost_table(work_cost(900, 5000))
    assert lines[0].startswith("on air: 28 frames (5 manifest + 23 data)")
    assert sum(1 for line in lines if line.split()[0] in EU868_PRESETS) == len(EU868_PRESETS)
