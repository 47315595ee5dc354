"""Trusted wall time for the engine: a small injectable provider.

The engine never reads a clock; the driver asks a :class:`TrustedClock` now and then and
passes what it says (Unix seconds, or None when the clock is not trustworthy) to
``engine.set_trusted_time``. A Raspberry Pi has no RTC: until NTP synchronises, its wall clock
is whatever the last shutdown left, so "the system time" alone is not trusted. Sources:

* NTP: systemd-timesyncd creates ``/run/systemd/timesync/synchronized`` once the clock is
  synchronised (systemd >= 239); the marker is checked on every ask.
* GPS: a transport that hears the radio's GPS time calls :meth:`TrustedClock.note_gps` with it
  and the monotonic time it was read; it stays trusted for ``GPS_VALID_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

NTP_MARKER = Path("/run/systemd/timesync/synchronized")
GPS_VALID_S = 6 * 3600.0  # a Pi's crystal drifts well under a second in that time


class TrustedClock:
    """Wall time when some source vouches for it, else None."""

    def __init__(self, ntp_marker: Path | None = NTP_MARKER, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ntp_marker = ntp_marker
        self._wall = wall
        self._monotonic = monotonic
        self._gps: tuple[float, float] | None = None  # (unix seconds, monotonic seconds) of the last fix

    def note_gps(self, unix_s: float, monotonic_s: float) -> None:
        """The radio reported GPS time ``unix_s``, read at ``monotonic_s``."""
        self._gps = (unix_s, monotonic_s)

    def _gps_now(self) -> float | None:
        if self._gps is None:
            return None
        unix_s, read_at = self._gps
        elapsed = self._monotonic() - read_at
        return unix_s + elapsed if 0 <= elapsed <= GPS_VALID_S else None

    def source(self) -> str | None:
        """Which source vouches now: ``"gps"``, ``"ntp"``, or None."""
        if self._gps_now() is not None:
            return "gps"
        if self._ntp_marker is not None and self._ntp_marker.exists():
            return "ntp"
        return None

    def __call__(self) -> float | None:
        """Trusted Unix time now, or None."""
        gps = self._gps_now()
        if gps is not None:
            return gps
        return self._wall() if self.source() == "ntp" else None
