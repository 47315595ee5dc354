"""The gallery load benchmark held for 10 minutes, printing the server's RSS as it goes.

Same server as ``benchmarks/gallery_load.py`` (200 works, 20 partial) and 50 concurrent clients
cycling through the works page, work pages, cards, previews and media::

    .venv/bin/python benchmarks/reliability_gallery_soak.py [--minutes 10] [--concurrency 50]

Prints an RSS sample every ``--sample-every`` seconds and the growth between the first and the
last quarter of the run after a one-minute warm-up; exit status 1 if it grew by 8 MiB or more
or any request failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run the soak and print the samples."""
    from tests.reliability.gallery_soak import soak

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--sample-every", type=float, default=10.0)
    args = parser.parse_args()
    duration = args.minutes * 60
    result = soak(duration, args.concurrency, args.sample_every, progress=True)
    rss = [mib for _, mib in result.samples]
    warmup = min(60.0, duration / 4)
    growth = result.growth_mib(warmup)
    print(f"gallery soak: {args.minutes:g} min, {args.concurrency} clients, {result.requests} requests "
          f"({result.requests / duration:.0f}/s), {result.errors} errors")
    print(f"  RSS min {min(rss):.1f} MiB, max {max(rss):.1f} MiB, "
          f"growth after {warmup:.0f} s warm-up: {growth:+.1f} MiB")
    return 1 if growth >= 8.0 or result.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
