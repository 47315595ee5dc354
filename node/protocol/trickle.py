"""A Trickle timer (RFC 6206) for inventory adverts.

Rules, with RFC 6206 §4.2 numbering: (1) start with I = Imin (the RFC allows any I in
[Imin, Imax]; a node that just booted has news or needs news, so it speaks early); (2) each interval
resets c and picks t in [I/2, I); (3) a consistent transmission heard increments c; (4) at t
transmit iff c < k; (5) when I ends, double it up to Imax; (6) an inconsistency sets I = Imin
and starts a new interval, unless I already is Imin.

Hardened against a neighbour that only repeats our digest (issue 17): a consistent advert counts
as *proven* when its sender served us verified data we lacked; otherwise it is hearsay. Hearsay
never suppresses an interval that began with news (an inconsistency or a local change: someone
needs to hear us now), and suppresses at most ``max_hearsay`` intervals in a row; proven adverts
suppress as the RFC says.
"""

from __future__ import annotations

import random


class TrickleTimer:
    """Decides when to advertise; the engine calls :meth:`poll` whenever its timer fires."""

    def __init__(self, imin: float, doublings: int, k: int, rng: random.Random, now: float,
                 max_hearsay: int = 2) -> None:
        if imin <= 0 or doublings < 0 or k < 1 or max_hearsay < 0:
            raise ValueError("trickle needs imin > 0, doublings >= 0, k >= 1, max_hearsay >= 0")
        self.imin = imin
        self.imax = imin * (2**doublings)
        self.k = k
        self.max_hearsay = max_hearsay
        self._rng = rng
        self.interval = imin
        self.hearsay_run = 0  # intervals in a row suppressed by unproven adverts only
        self._begin_interval(now, news=True)

    def _begin_interval(self, now: float, news: bool = False) -> None:
        self.interval_start = now
        self.counter = 0
        self.proven = 0
        self.news = news
        self.fire_at: float | None = now + self._rng.uniform(self.interval / 2, self.interval)

    @property
    def interval_end(self) -> float:
        """When the current interval ends."""
        return self.interval_start + self.interval

    def deadline(self) -> float:
        """The next time :meth:`poll` has something to do."""
        return self.fire_at if self.fire_at is not None else self.interval_end

    def hear_consistent(self, proven: bool = True) -> None:
        """Rule 3: a neighbour said what we would have said (``proven``: one that served us)."""
        self.counter += 1
        self.proven += proven

    def _transmit(self) -> bool:
        """Rule 4, with hearsay bounded."""
        if self.proven >= self.k:
            self.hearsay_run = 0
            return False
        if self.counter >= self.k and not self.news and self.hearsay_run < self.max_hearsay:
            self.hearsay_run += 1
            return False
        self.hearsay_run = 0
        return True

    def hear_inconsistent(self, now: float) -> None:
        """Rule 6: shrink to Imin and start over (no-op when already at Imin)."""
        if self.interval > self.imin:
            self.interval = self.imin
            self._begin_interval(now, news=True)
        else:
            self.news = True

    def reset(self, now: float) -> None:
        """A local change (new work, completion, takedown): advertise within the next Imin.

        Like rule 6, but also when I already is Imin and this interval's advert has gone out
        or was suppressed (the news is newer than what was said or heard).
        """
        if self.interval > self.imin or self.fire_at is None or self.counter >= self.k:
            self.interval = self.imin
            self._begin_interval(now, news=True)
        else:
            self.news = True

    def poll(self, now: float) -> bool:
        """Advance the timer to ``now``; True when an advert should be sent now (rule 4)."""
        transmit = False
        if self.fire_at is not None and now >= self.fire_at:
            transmit = self._transmit()
            self.fire_at = None
        while now >= self.interval_end:
            start = self.interval_end
            self.interval = min(self.interval * 2, self.imax)
            self._begin_interval(start)
            if self.fire_at is not None and now >= self.fire_at:
                # a driver that slept through a whole interval sends at most one advert
                transmit = self._transmit() or transmit
                self.fire_at = None
        return transmit
