"""Transmit budgets: the rolling-hour airtime ledger (LoRa) and a byte token bucket (IP).

Both answer the same two questions for the engine: "may I send this now?" and "when could I?".
The ledger counts each transmission's full airtime from its start and keeps it on the books
until ``window`` seconds after its *end*, so the airtime inside ANY window of ``window``
seconds, however it is aligned and whether counted by start time or by overlap, never exceeds
the limit.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

HOUR = 3600.0


@dataclass
class _Entry:
    start: float
    airtime: float


class AirtimeLedger:
    """A rolling record of one radio link's own transmissions against a limit in seconds."""

    def __init__(self, limit_s: float, window_s: float = HOUR) -> None:
        if limit_s <= 0 or window_s <= 0:
            raise ValueError("ledger limit and window must be positive")
        self.limit_s = limit_s
        self.window_s = window_s
        self._entries: deque[_Entry] = deque()
        self._total = 0.0

    def _expire(self, now: float) -> None:
        while self._entries and self._entries[0].start + self._entries[0].airtime + self.window_s <= now:
            self._total -= self._entries.popleft().airtime
        if not self._entries:
            self._total = 0.0  # no float drift once the books are empty

    def used(self, now: float) -> float:
        """Airtime still on the books at ``now`` (an upper bound on the last window's use)."""
        self._expire(now)
        return self._total

    def available_at(self, airtime: float, now: float) -> float:
        """Earliest time >= ``now`` at which ``airtime`` more seconds fit under the limit.

        Returns ``math.inf`` for a single transmission larger than the limit itself.
        """
        if airtime > self.limit_s:
            return math.inf
        # A pure query: callers ask about future times (the timer asks when a queued frame
        # could go), and expiring entries as of a future time would drop them from the books
        # before a frame sent now, so the ledger would under-count the real rolling hour.
        total = self._total
        live = iter(self._entries)
        entry: _Entry | None = next(live, None)
        while entry is not None and entry.start + entry.airtime + self.window_s <= now:
            total -= entry.airtime
            entry = next(live, None)
        excess = total + airtime - self.limit_s
        if excess <= 1e-9:
            return now
        while entry is not None:
            excess -= entry.airtime
            if excess <= 1e-9:
                return entry.start + entry.airtime + self.window_s
            entry = next(live, None)
        return math.inf  # unreachable: the loop frees everything

    def record(self, airtime: float, now: float) -> None:
        """Book a transmission starting at ``now``; the caller checked :meth:`available_at`."""
        self._expire(now)
        self._entries.append(_Entry(now, airtime))
        self._total += airtime

    def refund(self, airtime: float, now: float) -> bool:
        """Take back the most recent booking of ``airtime`` (the radio refused that frame)."""
        for i in range(len(self._entries) - 1, -1, -1):
            if math.isclose(self._entries[i].airtime, airtime):
                self._total -= self._entries[i].airtime
                del self._entries[i]
                return True
        return False

    def history(self) -> list[tuple[float, float]]:
        """The booked (start, airtime) pairs still held, oldest first."""
        return [(e.start, e.airtime) for e in self._entries]


class TokenBucket:
    """A byte-rate cap: ``rate`` tokens per second, holding at most ``burst``."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("token bucket rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def available_at(self, cost: float, now: float) -> float:
        """Earliest time >= ``now`` at which ``cost`` tokens are in the bucket.

        A pure query: ``now`` may lie in the future (when could a queued frame go?). Refilling
        up to it would move the bucket's stamp ahead of the real clock and stop every refill
        until the clock caught up (the ~60 s IP-link stall behind a far-off takedown repeat).
        """
        if cost > self.burst:
            return math.inf
        tokens = self._tokens
        if now > self._stamp:
            tokens = min(self.burst, tokens + (now - self._stamp) * self.rate)
        if tokens >= cost:
            return now
        return now + (cost - tokens) / self.rate

    def take(self, cost: float, now: float) -> bool:
        """Spend ``cost`` tokens if they are there; False (and nothing spent) otherwise."""
        self._refill(now)
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def give_back(self, cost: float) -> None:
        """Return tokens spent on a send that did not happen."""
        self._tokens = min(self.burst, self._tokens + cost)
