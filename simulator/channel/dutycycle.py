"""Per-node transmit ledger over a rolling hour, enforcing the regional duty cycle.

The firmware (``Router::send``) refuses a send when ``airTime->utilizationTXPercent()`` (own
TX over the last hour, in 1-minute buckets) is already above the region's duty cycle, so a
node can overshoot by one frame. The default rule here, ``strict``, refuses a send that
*would* take the rolling hour past the limit, so the limit is never exceeded; ``firmware``
reproduces the firmware's check. Times are integer ticks of any unit (the hosts use
microseconds); the window is an hour unless a test shortens it.
"""

from __future__ import annotations

from collections import deque

from simulator.clock import TICKS_PER_SECOND

HOUR = 3600 * TICKS_PER_SECOND
RULES = ("strict", "firmware")


class DutyCycleLedger:
    """Own transmissions in the last hour, and whether another one is allowed."""

    def __init__(self, limit: float, rule: str = "strict", *, window: int = HOUR, keep_history: bool = True) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown duty-cycle rule {rule!r}")
        if window <= 0:
            raise ValueError("the duty-cycle window must be positive")
        self.limit = limit
        self.rule = rule
        self.window = window
        self._recent: deque[tuple[int, int]] = deque()
        self._recent_total = 0  # Σ (end − start) over _recent
        self._keep_history = keep_history
        self.history: list[tuple[int, int]] = []  # every (start, end) ever, for metrics and plots

    @property
    def budget(self) -> int:
        """Ticks of transmission the window allows."""
        return round(self.limit * self.window)

    def record(self, start: int, end: int) -> None:
        """Log one transmission."""
        self._recent.append((start, end))
        self._recent_total += end - start
        if self._keep_history:
            self.history.append((start, end))

    def used(self, now: int) -> int:
        """Ticks transmitted in the window ending at ``now``."""
        window_start = now - self.window
        recent = self._recent
        while recent and recent[0][1] <= window_start:
            s, e = recent.popleft()
            self._recent_total -= e - s
        if not recent:
            return 0
        # Σ min(e, now) − max(s, window_start) over s < now: the total, less what sticks out at either end
        # (one radio's transmissions are in order and never overlap, so only the ends can stick out)
        total = self._recent_total
        first_start = recent[0][0]
        if first_start < window_start:
            total -= window_start - first_start
        for s, e in reversed(recent):
            if e <= now:
                break
            total -= e - max(s, now, window_start)
        return total

    def allows(self, now: int, airtime: int) -> bool:
        """Whether a frame of ``airtime`` ticks may start now."""
        if self.rule == "firmware":
            return self.used(now) <= self.budget
        return self.used(now) + airtime <= self.budget

    def next_allowed(self, now: int, airtime: int) -> int:
        """Earliest tick >= now at which :meth:`allows` holds (nothing else being sent)."""
        target = self.budget - (airtime if self.rule == "strict" else 0)
        if self.used(now) <= target:
            return now
        # used(t) = Σ max(0, e − max(s, t − window)) falls as the window start w = t − window moves on.
        intervals = list(self._recent)
        points = sorted({p for s, e in intervals for p in (s, e)})
        window = self.window
        prev_w = now - window

        def load(w: int) -> int:
            return sum(max(0, e - max(s, w)) for s, e in intervals)

        for w in points:
            if w <= prev_w:
                continue
            if load(w) <= target:
                # load is linear on [prev_w, w]: slope = −(number of intervals covering it)
                covering = sum(1 for s, e in intervals if s <= prev_w and e >= w)
                excess = load(prev_w) - target
                if covering > 0:
                    return prev_w + -(-excess // covering) + window
                return w + window
            prev_w = w
        return prev_w + window

    def share(self, now: int) -> float:
        """Fraction of the window ending at ``now`` spent transmitting (``utilizationTXPercent`` / 100)."""
        return self.used(now) / self.window

    def max_share(self) -> float:
        """Highest share of any rolling hour spent transmitting, over the whole run."""
        return max_rolling_share(self.history)


def max_rolling_share(history: list[tuple[int, int]]) -> float:
    """Busiest hour (windows ending at each transmission's end) as a fraction of an hour.

    ``history`` holds one radio's transmissions in time order; they never overlap.
    """
    best = 0
    first = 0
    total = 0  # airtime of history[first..i]
    for start, end in history:
        total += end - start
        window_start = end - HOUR
        while history[first][1] <= window_start:
            total -= history[first][1] - history[first][0]
            first += 1
        best = max(best, total - max(0, window_start - history[first][0]))
    return best / HOUR
