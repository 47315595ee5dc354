"""The shared LoRa channel, receiver by receiver, without a clock.

A host (the discrete-event world, the demo's asyncio air, the virtual radios) tells the
:class:`Medium` when a frame starts (:meth:`Medium.transmit`, with the sender's paths) and when
it ends (:meth:`Medium.finish`), in integer microsecond ticks of its own clock; the medium decides
everything in between, the same way for every host:

* fading: each path's mean power plus log-normal shadowing drawn per frame and receiver (the
  ``fading`` switch turns it off, for the virtual radios on a desk);
* capture with preamble lock (LoRaSim ``timingCollision``/``powerCollision``, FLoRa): an interferer
  that ended before the victim's last 5 preamble symbols does no harm; otherwise the victim needs
  ``capture_db`` more power, and a victim that starts after the receiver locked onto a decodable
  frame is lost whatever its power;
* frames of another modulation (the public LONG_FAST mesh under MEDIUM_FAST, MeshCore's 62.5 kHz
  frames inside the 250 kHz slot) act on the demodulator as noise: the victim survives while its
  power exceeds the interferer's in-band power by the demodulator's SNR floor (SF9: −12.5 dB, within
  2 dB of the cross-SF thresholds Croce et al. measured, IEEE Commun. Lett. 22(4), 2018). The
  receiver cannot lock onto them, and CAD, which correlates against its own chirps (Semtech
  AN1200.48), does not see them;
* half duplex: a transmitting radio loses what it was receiving and hears nothing new;
* CAD (``RadioLibInterface::isChannelActive``): a frame of the own modulation on the air at up to
  ``CAD_MARGIN_DB`` below the decoding threshold;
* channel utilisation (``AirTime::channelUtilizationPercent``): own transmissions and every frame
  the radio demodulated, in 6 buckets of 10 s;
* delivery: a decodable frame that was not lost still passes the run's ``loss`` and the path's own
  loss, drawn when it ends.

Randomness comes from two generators derived from the seed (fading, vectorised over a frame's
paths; loss), drawn in frame and path order, so identical inputs give identical decisions in
every host. An arrival too weak to be decoded, sensed or to harm a decodable frame is dropped
at once (its fading is still drawn): that changes no decision and saves most of the work in
dense topologies.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from node.lora import MESHTASTIC_PREAMBLE, Preset
from simulator.channel.links import PathSet
from simulator.channel.propagation import ChannelModel, snr_floor_db, symbol_time
from simulator.clock import TICKS_PER_SECOND

SLOT_CENTRE_HZ = 869.525e6  # EU_868's one 250 kHz Meshtastic slot (869.4-869.65 MHz)
CRITICAL_PREAMBLE_SYMBOLS = 5  # LoRaSim: the last 5 preamble symbols must be clean
CAD_MARGIN_DB = 3.0  # CAD detects a little below the decoding threshold (Meshtasticator: −3 dB)
UTIL_BUCKET = 10 * TICKS_PER_SECOND  # AirTime: CHANNEL_UTILIZATION_PERIODS buckets of 10 s
UTIL_BUCKETS = 6


def derived_rng(seed: int, purpose: str) -> random.Random:
    """An independent generator for one purpose of one run (string seeds hash with SHA-512,
    independent of PYTHONHASHSEED)."""
    return random.Random(f"mesh-art-sim:{seed}:{purpose}")


def derived_numpy_rng(seed: int, purpose: str) -> np.random.Generator:
    """The same for numpy's vectorised draws (PCG64 seeded from SHA-256 of the purpose)."""
    digest = hashlib.sha256(f"mesh-art-sim:{seed}:{purpose}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))


@dataclass(frozen=True)
class Modulation:
    """What a LoRa frame looks like to a receiver: spreading factor, bandwidth, centre frequency."""

    sf: int
    bw_hz: float
    centre_hz: float = SLOT_CENTRE_HZ

    def overlap_fraction(self, other: Modulation) -> float:
        """Share of ``other``'s power that falls inside this modulation's band."""
        low = max(self.centre_hz - self.bw_hz / 2, other.centre_hz - other.bw_hz / 2)
        high = min(self.centre_hz + self.bw_hz / 2, other.centre_hz + other.bw_hz / 2)
        return max(0.0, high - low) / other.bw_hz


class Timed(Protocol):
    """A frame as one receiver sees it: times in ticks, power in dBm."""

    start: int
    end: int
    power: float
    decodable: bool


@dataclass(slots=True)
class Signal:
    """One frame as one receiver sees it: times in ticks, power in dBm."""

    start: int
    end: int
    power: float
    decodable: bool = True


def survives(victim: Timed, other: Timed, critical_offset: int, capture_db: float = 6.0) -> bool:
    """Whether ``victim`` is still decoded although ``other`` (same modulation) overlaps it.

    ``critical_offset`` is the time from a frame's start to its critical section (all but the
    last 5 preamble symbols). An interferer that ended before the victim's critical section does
    no harm; otherwise the victim needs ``capture_db`` more power. A victim that arrives later than
    a decodable ``other`` also needs to arrive before the receiver locked onto ``other`` (the start
    of ``other``'s critical section); after that lock it is lost whatever its power.
    """
    if other.end <= victim.start + critical_offset or victim.end <= other.start:
        return True
    if victim.start > other.start and other.decodable and victim.start >= other.start + critical_offset:
        return False
    return victim.power - other.power >= capture_db


@dataclass(slots=True)
class Arrival:
    """A transmission as one receiver experiences it (a :class:`Timed`)."""

    receiver: int
    start: int
    end: int
    power: float
    decodable: bool
    extra_loss: float = 0.0  # the path's own drop probability (topology file)
    lost: str = ""  # "", "collision", "half-duplex" or "down"
    cross_db: float | None = None  # another modulation: the SIR its victims need; None: ours
    foreign: bool = False  # not the exhibition's: never delivered


@dataclass(slots=True)
class Frame:
    """One transmission on the air and its arrivals."""

    sender: int  # the host's node index; a foreign source's index is negative
    start: int
    end: int
    arrivals: list[Arrival]
    foreign: bool = False


@dataclass(frozen=True)
class Reception:
    """A frame decoded by a receiver."""

    receiver: int
    power: float


class Medium:
    """Everything the channel decides, for ``nodes`` radios on one modulation."""

    def __init__(self, nodes: int, preset: Preset, model: ChannelModel | None = None, *, seed: int = 1,
                 fading: bool = True, loss: float = 0.0, threshold_dbm: float | None = None) -> None:
        self.preset = preset
        self.model = model or ChannelModel()
        self.modulation = Modulation(preset.sf, preset.bw_hz)
        self.sigma = self.model.shadowing_sigma_db if fading else 0.0
        self.loss = loss
        self.threshold_dbm = self.model.rx_threshold_dbm(preset) if threshold_dbm is None else threshold_dbm
        self.cad_dbm = self.threshold_dbm - CAD_MARGIN_DB
        self.capture_db = self.model.capture_db
        self.critical = round((MESHTASTIC_PREAMBLE - CRITICAL_PREAMBLE_SYMBOLS) * symbol_time(preset)
                              * TICKS_PER_SECOND)
        self.rng_fading = derived_numpy_rng(seed, "fading")
        self.rng_loss = derived_rng(seed, "loss")
        self.active: list[list[Arrival]] = [[] for _ in range(nodes)]
        self.tx_until = [0] * nodes
        self.up = [True] * nodes
        self.busy_ticks = [0] * nodes  # union of what each radio's CAD sees, its own frames included
        self._busy_end = [0] * nodes
        self._util = [[0] * UTIL_BUCKETS for _ in range(nodes)]
        self._util_bucket = [0] * nodes
        self.collisions_at = [0] * nodes
        self.collisions = 0
        self.foreign_busy_ticks = 0  # union of every foreign frame on the air (the background's share)
        self._foreign_end = 0
        self._cross: dict[Modulation, float | None] = {}

    def ensure_nodes(self, nodes: int) -> None:
        """Make room for radios that joined after the medium was made (the virtual radios)."""
        while len(self.active) < nodes:
            self.active.append([])
            self.tx_until.append(0)
            self.up.append(True)
            self.busy_ticks.append(0)
            self._busy_end.append(0)
            self._util.append([0] * UTIL_BUCKETS)
            self._util_bucket.append(0)
            self.collisions_at.append(0)

    # -- transmissions --------------------------------------------------------------------------
    def transmit(self, sender: int, paths: PathSet, start: int, end: int,
                 modulation: Modulation | None = None) -> Frame:
        """A frame from ``sender`` over ``paths`` on the air from ``start`` to ``end``.

        ``modulation`` is None for the exhibition's own frames; a foreign source gives its own
        (its ``sender`` is negative and nothing it sends is delivered).
        """
        foreign = modulation is not None
        cross = self._cross_db(modulation) if modulation is not None else None
        if foreign:
            self.foreign_busy_ticks += max(0, end - max(start, self._foreign_end))
            self._foreign_end = max(self._foreign_end, end)
        else:
            self.tx_until[sender] = end
            self._add_util(sender, start, end)
            for arrival in self.active[sender]:  # half duplex: whatever it was receiving is gone
                if arrival.end > start and not arrival.lost:
                    arrival.lost = "half-duplex"
        if not len(paths):
            return Frame(sender, start, end, [], foreign)
        audible = cross is None  # CAD and the utilisation see only the own modulation
        threshold, cad = self.threshold_dbm, self.cad_dbm
        # below this an arrival can neither be decoded nor sensed, nor take a decodable frame down
        inert = threshold - max(self.capture_db, CAD_MARGIN_DB) if cross is None else threshold - cross
        powers = paths.mean + self.sigma * self.rng_fading.standard_normal(len(paths)) if self.sigma > 0 \
            else paths.mean
        relevant = np.flatnonzero(powers >= inert).tolist()
        values = powers.tolist()
        receivers, extra = paths.receivers, paths.extra_loss
        up, tx_until, active_at = self.up, self.tx_until, self.active
        busy_ticks, busy_end_at, util, util_bucket = self.busy_ticks, self._busy_end, self._util, self._util_bucket
        airtime = end - start
        arrivals = []
        for i in relevant:
            receiver = receivers[i]
            power = values[i]
            arrival = Arrival(receiver, start, end, power, audible and power >= threshold, extra[i], "", cross,
                              foreign)
            arrivals.append(arrival)
            if not up[receiver]:
                arrival.lost = "down"
                continue
            if tx_until[receiver] > start:
                arrival.lost = "half-duplex"
            active = active_at[receiver]
            if active:
                self._collide(receiver, arrival, start)
            else:
                active.append(arrival)
            if audible and power >= cad:  # _add_util, inlined: the hottest line of a dense run
                busy_end = busy_end_at[receiver]
                if end > busy_end:
                    busy_ticks[receiver] += end - (start if start > busy_end else busy_end)
                    busy_end_at[receiver] = end
                if start // UTIL_BUCKET != util_bucket[receiver]:
                    self._roll(receiver, start)
                util[receiver][util_bucket[receiver] % UTIL_BUCKETS] += airtime
        return Frame(sender, start, end, arrivals, foreign)

    def _cross_db(self, modulation: Modulation) -> float | None:
        """None for a frame of the own modulation, else the SIR an own frame needs against it."""
        if modulation not in self._cross:
            if modulation == self.modulation:
                self._cross[modulation] = None
            else:
                share = self.modulation.overlap_fraction(modulation)
                self._cross[modulation] = (snr_floor_db(self.preset.sf) + 10 * math.log10(share)
                                           if share > 0 else -math.inf)
        return self._cross[modulation]

    def _collide(self, receiver: int, new: Arrival, now: int) -> None:
        active = [a for a in self.active[receiver] if a.end > now]
        for old in active:
            if not self._survives(new, old):
                self._lose(receiver, new)
            if not self._survives(old, new):
                self._lose(receiver, old)
        active.append(new)
        self.active[receiver] = active

    def _survives(self, victim: Arrival, other: Arrival) -> bool:
        if victim.foreign:
            return True  # nobody here decodes it
        if other.cross_db is None:
            return survives(victim, other, self.critical, self.capture_db)
        if other.end <= victim.start + self.critical or victim.end <= other.start:
            return True
        return victim.power - other.power >= other.cross_db

    def _lose(self, receiver: int, arrival: Arrival) -> None:
        if arrival.lost:
            return
        arrival.lost = "collision"
        if arrival.decodable:
            self.collisions_at[receiver] += 1
            self.collisions += 1

    def finish(self, frame: Frame) -> list[Reception]:
        """The frame has ended: who decoded it (none for a foreign frame)."""
        if frame.foreign:
            return []
        delivered = []
        for arrival in frame.arrivals:
            if arrival.lost or not arrival.decodable:
                continue
            drop = self.loss
            if arrival.extra_loss:
                drop = 1 - (1 - drop) * (1 - arrival.extra_loss)
            if drop and self.rng_loss.random() < drop:
                continue
            delivered.append(Reception(arrival.receiver, arrival.power))
        return delivered

    # -- the radios' view -----------------------------------------------------------------------
    def cad_busy(self, node: int, now: int) -> bool:
        """Channel activity detection: a frame of the own modulation this radio hears is on the air."""
        cad = self.cad_dbm
        return any(a.end > now and a.cross_db is None and a.power >= cad for a in self.active[node])

    def transmitting(self, node: int, now: int) -> bool:
        """Whether the radio is on air."""
        return self.tx_until[node] > now

    def set_down(self, node: int) -> None:
        """The radio lost power: what it was receiving is gone, and it hears nothing until :meth:`set_up`."""
        self.up[node] = False
        for arrival in self.active[node]:
            if not arrival.lost:
                arrival.lost = "down"
        self.tx_until[node] = 0

    def set_up(self, node: int) -> None:
        """The radio is back."""
        self.up[node] = True

    def utilisation_percent(self, node: int, now: int) -> float:
        """``channelUtilizationPercent``: the last minute's busy share, in percent."""
        self._roll(node, now)
        return 100 * sum(self._util[node]) / (UTIL_BUCKETS * UTIL_BUCKET)

    def _roll(self, node: int, now: int) -> None:
        bucket = now // UTIL_BUCKET
        last = self._util_bucket[node]
        if bucket != last:
            util = self._util[node]
            for b in range(last + 1, min(bucket, last + UTIL_BUCKETS) + 1):
                util[b % UTIL_BUCKETS] = 0
            self._util_bucket[node] = bucket

    def _add_util(self, node: int, start: int, end: int) -> None:
        self.busy_ticks[node] += max(0, end - max(start, self._busy_end[node]))
        self._busy_end[node] = max(self._busy_end[node], end)
        self._roll(node, start)
        self._util[node][self._util_bucket[node] % UTIL_BUCKETS] += end - start
