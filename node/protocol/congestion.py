"""Congestion control: how busy the channel is around this node, and how fast bulk data may go.

The :class:`ChannelLoad` of a link keeps an exponentially decaying sum of the airtime this node
knows was on the channel: its own transmissions, every frame it heard (counted at its real
on-air size), foreign frames the driver reports, and, where the transport has them, the radio's
own ``channel_utilization``/``air_util_tx`` device metrics. Nothing here trusts a field a sender
set: load is measured, never announced.

The rule (AIMD, per link): while the load of *other* nodes' traffic (all but our own
transmissions) is above ``congestion_target``, the rate at which
this node sends bulk data (chunks and coded repair, the least valuable traffic) is halved at most
once per half time constant, down to ``RATE_MIN``; below the target it grows back by ``RATE_STEP``
per time constant.
A node alone on its channel collides with nobody, so its own transmissions count in the
estimate (and in ``status``) but never pace it. At rate r the next data frame starts ``airtime / r``
after the last one did. Takedowns,
requests, manifests (the catalogue), adverts and beacons are never paced.
"""

from __future__ import annotations

import math

# Not lower: with a floor of 1/16 a jammer at the legal duty cycle (simulator/attackers.py, collider)
# slowed the 4-work exhibition 1.55x, by pacing the honest nodes; 1/4: 1.36x.
RATE_MIN = 1 / 4
RATE_STEP = 0.125  # additive increase per time constant below the target
RADIO_REPORT_FRESH = 2.0  # a radio's utilisation report counts for this many time constants


class ChannelLoad:
    """The busy fraction of one link's channel around this node, and the data rate it allows."""

    def __init__(self, target: float, tau_s: float, now: float) -> None:
        if not 0 < target < 1 or tau_s <= 0:
            raise ValueError("congestion needs 0 < target < 1 and a positive time constant")
        self.target = target
        self.tau_s = tau_s
        self._busy = 0.0  # decayed airtime seconds, every transmission
        self._own = 0.0  # decayed airtime seconds, ours only
        self._stamp = now
        # (others' share of the radio's reading 0..1, when reported)
        self._radio: tuple[float, float] | None = None
        self.rate = 1.0
        self._adjusted = now
        self._next_data = -math.inf

    def _decay(self, now: float) -> float:
        return 1.0 if now <= self._stamp else math.exp(-(now - self._stamp) / self.tau_s)

    def note_airtime(self, airtime_s: float, now: float, *, own: bool = False) -> None:
        """``airtime_s`` seconds of transmission were on the channel (``own``: ours)."""
        factor = self._decay(now)
        self._busy = self._busy * factor + airtime_s
        self._own = self._own * factor + (airtime_s if own else 0.0)
        self._stamp = max(self._stamp, now)
        self._adjust(now)

    def note_radio(self, utilisation: float, now: float) -> None:
        """The radio measured this busy fraction (0..1) of the channel, our own transmissions included
        (firmware ``AirTime::logAirtime`` adds TX_LOG to ``channelUtilization`` too)."""
        # Our share comes off now, while the reading is fresh: subtracted later, from an own count
        # that has decayed since, it would leave our past transmissions in the others' load.
        own = self._own * self._decay(now) / self.tau_s
        self._radio = (max(0.0, min(max(utilisation, 0.0), 1.0) - own), now)
        self._adjust(now)

    def _radio_others(self, now: float) -> float:
        """The others' share of the radio's reading while it is fresh, else 0."""
        if self._radio is not None and now - self._radio[1] <= RADIO_REPORT_FRESH * self.tau_s:
            return self._radio[0]
        return 0.0

    def estimate(self, now: float) -> float:
        """The busy fraction now: our own count, or the radio's fresh measurement if higher."""
        decay = self._decay(now)
        counted = self._busy * decay / self.tau_s
        return max(counted, self._radio_others(now) + self._own * decay / self.tau_s)

    def others(self, now: float) -> float:
        """The busy fraction of everyone else's traffic."""
        decay = self._decay(now)
        return max(0.0, (self._busy - self._own) * decay / self.tau_s, self._radio_others(now))

    def _adjust(self, now: float) -> None:
        load = self.others(now)
        if load > self.target:
            if now - self._adjusted >= self.tau_s / 2:
                self.rate = max(RATE_MIN, self.rate / 2)
                self._adjusted = now
        elif now > self._adjusted:
            self.rate = min(1.0, self.rate + RATE_STEP * (now - self._adjusted) / self.tau_s)
            self._adjusted = now

    def data_sent(self, airtime_s: float, now: float) -> None:
        """We sent a data frame of ``airtime_s``: the next may follow after the rate's silence."""
        self._next_data = now + airtime_s / self.rate

    def data_allowed_at(self) -> float:
        """When the next bulk data frame may go."""
        return self._next_data
