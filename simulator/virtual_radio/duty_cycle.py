"""A radio's own transmit time over a rolling window, and the firmware's hard duty-cycle gate.

Firmware ``Router::send`` refuses to send (NAK ``DUTY_CYCLE_LIMIT``) while the last hour's
transmit time is above the region's duty cycle (10 % in EU_868), unless
``override_duty_cycle`` is set. The window is a parameter so tests can use seconds, not an hour.
"""

from __future__ import annotations

from collections import deque

HOUR_S = 3600.0


class DutyCycleLedger:
    """Transmissions in the rolling window, as (start, seconds on air)."""

    def __init__(self, window_s: float = HOUR_S) -> None:
        self.window_s = window_s
        self._entries: deque[tuple[float, float]] = deque()

    def record(self, start: float, airtime_s: float) -> None:
        """Count a transmission."""
        self._entries.append((start, airtime_s))

    def used_seconds(self, now: float) -> float:
        """Transmit seconds within the window ending ``now``."""
        while self._entries and self._entries[0][0] + self._entries[0][1] <= now - self.window_s:
            self._entries.popleft()
        return sum(airtime for _, airtime in self._entries)

    def utilization_percent(self, now: float) -> float:
        """Transmit time as a percentage of the window (firmware ``utilizationTXPercent``)."""
        return 100.0 * self.used_seconds(now) / self.window_s

    def over_limit(self, now: float, duty_cycle_percent: float) -> bool:
        """True if a new send must be refused."""
        return duty_cycle_percent < 100 and self.utilization_percent(now) > duty_cycle_percent
