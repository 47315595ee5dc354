"""Log lines anyone can provoke are rate-limited per kind; the count of those left out is kept."""

from __future__ import annotations

import io
import logging

from node.daemon.logs import KeyValueFormatter, RateLimit


def journal(limit: RateLimit) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(KeyValueFormatter(journald=False))
    handler.addFilter(limit)
    logger = logging.getLogger("test.flood")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_a_flood_of_one_kind_of_line_becomes_a_burst_per_minute_and_a_count():
    now = [0.0]
    logger, out = journal(RateLimit(burst=20, window_s=60.0, clock=lambda: now[0]))
    for n in range(30_000):  # ten minutes of refusals at 50 a second, each from another address
        now[0] = n / 50
        logger.warning("connection refused client=%s", f"10.0.{n % 250}.{n % 199}")
    logger.info("node stopped")
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 * 20 + 1
    counts = [int(line.rsplit("suppressed=", 1)[1]) for line in lines if "suppressed=" in line]
    assert len(counts) == 9 and all(c == 60 * 50 - 20 for c in counts)
    assert lines[-1].endswith("node stopped")


def test_kinds_are_counted_apart_and_the_table_of_kinds_is_bounded():
    limit = RateLimit(burst=1, window_s=60.0, clock=lambda: 0.0, kinds_kept=8)
    logger, out = journal(limit)
    for n in range(1000):
        logger.warning(f"distinct template {n}")  # a new kind every line
    assert len(out.getvalue().splitlines()) == 1000
    assert len(limit) == 8
