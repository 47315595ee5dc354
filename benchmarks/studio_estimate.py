"""How long the studio's "time to every venue" estimate takes (one simulator run per work).

Run from the repository root: PYTHONPATH=. python benchmarks/studio_estimate.py
Prints, per preset and content size, the simulated time until every venue holds the work and
the wall-clock seconds the estimate took (uncached).
"""

from __future__ import annotations

import time

from node.studio.estimate import time_to_every_venue


def main() -> None:
    print(f"{'preset':<12} {'size':>8} {'everywhere':>12} {'wall':>7}")
    for preset in ("MEDIUM_FAST", "LONG_FAST"):
        for size in (2 * 1024, 12 * 1024, 24 * 1024, 128 * 1024):
            time_to_every_venue.cache_clear()
            started = time.perf_counter()
            reach = time_to_every_venue(size, "image/webp", preset, "amsterdam")
            wall = time.perf_counter() - started
            everywhere = f"{reach.everywhere_s:.0f} s" if reach.everywhere_s is not None else "not all"
            print(f"{preset:<12} {size:>8} {everywhere:>12} {wall:>6.2f}s")


if __name__ == "__main__":
    main()
