"""A token bucket: the transports' hard rate caps (independent of the engine's own pacing)."""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; the caller supplies ``now``."""

    def __init__(self, rate: float, burst: float, now: float = 0.0) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def try_take(self, now: float, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if available; False (and nothing taken) otherwise."""
        self._refill(now)
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False

    def delay_for(self, now: float, amount: float = 1.0) -> float:
        """Seconds until ``amount`` tokens are available (0 when they are now)."""
        self._refill(now)
        missing = min(amount, self.burst) - self._tokens
        return max(0.0, missing / self.rate)
