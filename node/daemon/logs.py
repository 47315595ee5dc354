"""Structured, journald-friendly logging: ``level=... logger=... message key=value ...``.

Under systemd (``JOURNAL_STREAM`` set) lines carry a ``<N>`` syslog priority prefix, which
journald turns into the entry's priority, and no timestamp (the journal has its own).

Anyone on the Wi-Fi or the radio can make the node log (a refused connection, a bad request),
so every line passes a :class:`RateLimit`: a burst of each kind of line per minute, then
silence, and the next line of that kind says how many were left out.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


LINES_PER_KIND = 20
WINDOW_S = 60.0
KINDS_KEPT = 512


@dataclass
class _Window:
    start: float
    lines: int = 0
    suppressed: int = 0


class RateLimit(logging.Filter):
    """At most ``burst`` lines of each kind per ``window_s``; a kind is the logger, the level
    and the message *template*, so lines that differ only in an attacker's values are one kind.

    A line that opens a new window after some were dropped carries ``suppressed`` (their count).
    """

    def __init__(self, burst: int = LINES_PER_KIND, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic, kinds_kept: int = KINDS_KEPT) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._kinds_kept = kinds_kept
        self._windows: OrderedDict[tuple[str, int, str], _Window] = OrderedDict()

    def __len__(self) -> int:
        """Kinds of line being counted (at most ``kinds_kept``)."""
        return len(self._windows)

    def filter(self, record: logging.LogRecord) -> bool:
        """True when ``record`` may be written."""
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        window = self._windows.get(kind)
        if window is None or now - window.start >= self.window_s:
            if window is not None and window.suppressed:
                record.suppressed = window.suppressed
            window = _Window(now)
            self._windows[kind] = window
            if len(self._windows) > self._kinds_kept:
                self._windows.popitem(last=False)
        self._windows.move_to_end(kind)
        if window.lines >= self.burst:
            window.suppressed += 1
            return False
        window.lines += 1
        return True


class KeyValueFormatter(logging.Formatter):
    """One line per record; exceptions folded onto the same line."""

    def __init__(self, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line."""
        message = record.getMessage()
        suppressed = getattr(record, "suppressed", 0)
        if suppressed:
            message += f" suppressed={suppressed}"
        if record.exc_info:
            message += " exception=" + repr(self.formatException(record.exc_info).replace("\n", " | "))
        level = record.levelname.lower()
        if self.journald:
            priority = SYSLOG_PRIORITY.get(record.levelno, 6)
            return f"<{priority}>level={level} logger={record.name} {message}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"ts={stamp}.{int(record.msecs):03d}Z level={level} logger={record.name} {message}"


def setup_logging(level: str = "info", stream: object = None) -> None:
    """Route every logger through one rate-limited key=value handler on stderr at ``level``."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(KeyValueFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The meshtastic library and aiohttp's access log are chatty at INFO.
    for noisy in ("meshtastic", "aiohttp.access", "pubsub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
