"""The firmware's transmit timing: contention windows, relay delays, retransmission timeout.

One copy for every host (the discrete-event world, the flood baseline, the demo's air and the
virtual radios). Sources: meshtastic/firmware 2.7 ``src/mesh/RadioInterface.cpp``
(``getTxDelayMsec``, ``getCWsize``, ``getTxDelayMsecWeighted``, ``getTxDelayMsecWeightedWorst``,
``getRetransmissionMsec``) and ``RadioLibInterface::setTransmitDelay``. Times are seconds;
``slot`` is the preset's ``computeSlotTimeMsec`` in seconds (``Preset.slot_time``).
"""

from __future__ import annotations

import random

CW_MIN, CW_MAX = 3, 8  # RadioInterface.h
SNR_MIN, SNR_MAX = -20, 10  # RadioInterface::getCWsize
PROCESSING_S = 4.5  # PROCESSING_TIME_MSEC in getRetransmissionMsec


def arduino_map(value: float, in_min: int, in_max: int, out_min: int, out_max: int) -> int:
    """Arduino's ``map()``: the float argument becomes a ``long`` (truncated), then integer arithmetic
    with C's truncating division."""
    scaled = (int(value) - in_min) * (out_max - out_min)
    span = in_max - in_min
    quotient = abs(scaled) // span
    return (quotient if scaled >= 0 else -quotient) + out_min


def cw_size(snr: float) -> int:
    """``getCWsize``: ``map(snr, −20, 10, 3, 8)``, clamped to 3..8 so a freak SNR cannot leave the window."""
    return max(CW_MIN, min(CW_MAX, arduino_map(snr, SNR_MIN, SNR_MAX, CW_MIN, CW_MAX)))


def utilisation_cw(percent: float) -> int:
    """``map(channelUtilizationPercent, 0, 100, 3, 8)`` as in ``getTxDelayMsec`` and ``getRetransmissionMsec``."""
    return max(CW_MIN, min(CW_MAX, arduino_map(percent, 0, 100, CW_MIN, CW_MAX)))


def tx_delay_slots(utilisation_percent: float, rng: random.Random) -> int:
    """``getTxDelayMsec`` in slots: ``random(0, 2^CW)`` with CW from the channel utilisation."""
    return rng.randrange(2 ** utilisation_cw(utilisation_percent))


def tx_delay(utilisation_percent: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsec``: the wait before an own packet's channel check, in seconds."""
    return tx_delay_slots(utilisation_percent, rng) * slot


def relay_delay(early: bool, snr: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsecWeighted``: a relay that rebroadcasts early (``shouldRebroadcastEarlyLikeRouter``:
    role ROUTER only) waits ``random(0, 2·CW)`` slots, everyone else the 2·CWmax-slot offset plus
    ``random(0, 2^CW)`` slots. High SNR means a long delay, so far nodes relay first."""
    cw = cw_size(snr)
    if early:
        return rng.randrange(2 * cw) * slot
    return 2 * CW_MAX * slot + rng.randrange(2**cw) * slot


def worst_relay_delay(snr: float, slot: float) -> float:
    """``getTxDelayMsecWeightedWorst``: the end of the non-router window."""
    return 2 * CW_MAX * slot + 2 ** cw_size(snr) * slot


def redrawn_deadline(tx_after: float, now: float, delay: float, snr: float, slot: float) -> float:
    """``setTransmitDelay`` for a packet that already had a deadline: push it back by a fresh
    ``delay``, but never past twice the worst weighted delay from now."""
    return min(max(tx_after + delay, now + delay), now + 2 * worst_relay_delay(snr, slot))


def retransmission_timeout(airtime: float, slot: float, utilisation_percent: float) -> float:
    """``getRetransmissionMsec``: how long a reliable sender waits for an (implicit) ACK."""
    cw = utilisation_cw(utilisation_percent)
    return 2 * airtime + (2**cw + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)) * slot + PROCESSING_S
