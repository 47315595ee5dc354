"""A signed takedown always fits one radio frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from node.artwork import Takedown, verify_takedown
from node.artwork.chunks import MAX_FRAME_PAYLOAD
from node.artwork.takedown import MAX_TAKEDOWN_BYTES
from tests.factories import curator_key, trust


@settings(max_examples=100, deadline=None)
@given(reason=st.text(max_size=80), issued=st.integers(min_value=0, max_value=2**63 - 1))
def test_takedown_fits_one_frame_and_verifies(reason: str, issued: int) -> None:
    takedown = Takedown.create(curator_key(), bytes(range(32)), reason, issued)
    data = takedown.to_bytes()
    assert len(data) <= MAX_TAKEDOWN_BYTES == MAX_FRAME_PAYLOAD - 1  # one byte for the frame kind
    assert reason.startswith(takedown.reason)
    assert verify_takedown(data, trust()) == takedown


def test_short_reasons_are_kept_whole() -> None:
    reason = "withdrawn at the artist's request"
    assert Takedown.create(curator_key(), bytes(32), reason, 1_790_000_000).reason == reason
