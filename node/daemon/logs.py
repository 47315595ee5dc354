"""Structured, journald-friendly logging: ``level=... logger=... message key=value ...``.

Under systemd (``JOURNAL_STREAM`` set) lines carry a ``<N>`` syslog priority prefix, which
journald turns into the entry's priority, and no timestamp (the journal has its own).
"""

from __future__ import annotations

import logging
import os
import sys
import time

SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class KeyValueFormatter(logging.Formatter):
    """One line per record; exceptions folded onto the same line."""

    def __init__(self, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line."""
        message = record.getMessage()
        if record.exc_info:
            message += " exception=" + repr(self.formatException(record.exc_info).replace("\n", " | "))
        level = record.levelname.lower()
        if self.journald:
            priority = SYSLOG_PRIORITY.get(record.levelno, 6)
            return f"<{priority}>level={level} logger={record.name} {message}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"ts={stamp}.{int(record.msecs):03d}Z level={level} logger={record.name} {message}"


def setup_logging(level: str = "info", stream: object = None) -> None:
    """Route every logger through one key=value handler on stderr at ``level``."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(KeyValueFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The meshtastic library and aiohttp's access log are chatty at INFO.
    for noisy in ("meshtastic", "aiohttp.access", "pubsub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
