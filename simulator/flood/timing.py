"""The firmware's relay and retransmission timing (meshtastic/firmware 2.7, ``RadioInterface.cpp``).

All times are seconds; ``slot`` is the preset's ``computeSlotTimeMsec`` in seconds.
"""

from __future__ import annotations

import random

from simulator.flood.roles import Role

CW_MIN, CW_MAX = 3, 8  # RadioInterface.h
SNR_MIN, SNR_MAX = -20, 10  # RadioInterface::getCWsize
PROCESSING_S = 4.5  # PROCESSING_TIME_MSEC in getRetransmissionMsec


def _arduino_map(value: float, in_min: int, in_max: int, out_min: int, out_max: int) -> int:
    """Arduino's integer ``map()`` on a value truncated to int, as the firmware calls it."""
    return int((int(value) - in_min) * (out_max - out_min) / (in_max - in_min)) + out_min


def cw_size(snr: float) -> int:
    """``getCWsize``: ``map(snr, −20, 10, 3, 8)``, clamped to 3..8 so a freak SNR cannot leave the window."""
    return max(CW_MIN, min(CW_MAX, _arduino_map(snr, SNR_MIN, SNR_MAX, CW_MIN, CW_MAX)))


def utilisation_cw(percent: float) -> int:
    """``map(channelUtilizationPercent, 0, 100, 3, 8)`` as in ``getTxDelayMsec`` and ``getRetransmissionMsec``."""
    return max(CW_MIN, min(CW_MAX, _arduino_map(percent, 0, 100, CW_MIN, CW_MAX)))


def relay_delay(role: Role, snr: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsecWeighted``: a ROUTER relays early, everyone else after the 2·CWmax-slot offset.

    High SNR means a long delay, so far nodes relay first.
    """
    cw = cw_size(snr)
    if role is Role.ROUTER:  # shouldRebroadcastEarlyLikeRouter: ROUTER only, not ROUTER_LATE
        return rng.randrange(2 * cw) * slot
    return 2 * CW_MAX * slot + rng.randrange(2**cw) * slot


def worst_relay_delay(snr: float, slot: float) -> float:
    """``getTxDelayMsecWeightedWorst``: the end of the non-router window."""
    return 2 * CW_MAX * slot + 2 ** cw_size(snr) * slot


def retransmission_timeout(airtime: float, slot: float, utilisation_percent: float) -> float:
    """``getRetransmissionMsec``: how long a reliable sender waits for an (implicit) ACK."""
    cw = utilisation_cw(utilisation_percent)
    return 2 * airtime + (2**cw + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)) * slot + PROCESSING_S
