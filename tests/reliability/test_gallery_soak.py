"""Short soak: the gallery under 50 concurrent clients for ~20 s keeps its RSS flat."""

import pytest

from tests.reliability.gallery_soak import soak

pytestmark = pytest.mark.timeout(120)


def test_gallery_rss_stays_flat_under_load():
    result = soak(duration_s=20.0, concurrency=50, sample_every=1.0)
    print(f"requests={result.requests} errors={result.errors} rss samples={result.samples}")
    assert result.requests > 1000 and result.errors == 0
    assert len(result.samples) >= 15
    assert result.growth_mib(warmup_s=5.0) < 4.0
