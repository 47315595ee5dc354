"""Foreign traffic in the exhibition's slot: the public Meshtastic mesh and MeshCore.

EU_868 has one 250 kHz Meshtastic slot (869.4-869.65 MHz, centre 869.525 MHz); Amsterdam's
public LongFast mesh uses it, and MeshCore's EU default (869.618 MHz, 62.5 kHz) sits inside it.
A :class:`Background` places foreign transmitters around the venues and draws their frames:

* ``utilisation`` U is the share of time at least one foreign frame is on the air. Frames from
  independent Poisson sources form one Poisson stream, and the air is free with probability
  ``exp(−λ·E[T])`` (M/G/∞), so the sources together offer ``G = −ln(1 − U)``;
* ``PUBLIC_SHARE`` of that airtime is LONG_FAST packets (positions, telemetry, node info, texts),
  the rest MeshCore-like frames (SF8, 62.5 kHz, CR 4/8);
* each source keeps its own strict 10 % duty-cycle ledger; there are enough sources that none
  offers more than ``SOURCE_LOAD`` on its own;
* everything is drawn from one generator derived from the run seed.

What a foreign frame does at a receiver (capture, CAD, utilisation) is the medium's business
(:mod:`simulator.channel.medium`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from node.lora import EU868_DUTY_CYCLE, Preset, time_on_air
from simulator.channel.dutycycle import DutyCycleLedger
from simulator.channel.links import INTERFERENCE_RANGE_DB, Neighbour, PathSet
from simulator.channel.medium import Modulation, derived_rng
from simulator.channel.propagation import ChannelModel, distance_m
from simulator.clock import TICKS_PER_SECOND
from simulator.scenarios import Topology

PUBLIC_SHARE = 0.7  # of the foreign airtime: the public LongFast mesh; the rest is MeshCore
SOURCE_LOAD = 0.025  # at most this much offered load per foreign source (well under its 10 %)
MIN_SOURCES = 6
MARGIN_DEG = 0.02  # sources stand up to about 2 km beyond the venues' bounding box
MAX_UTILISATION = 0.9


@dataclass(frozen=True)
class ForeignKind:
    """One kind of foreign traffic: its PHY and the sizes of its LoRa frames."""

    name: str
    modulation: Modulation
    cr: int
    preamble: int
    min_bytes: int
    max_bytes: int

    def airtime_s(self, lora_bytes: int) -> float:
        """Seconds on air for a frame of ``lora_bytes``."""
        m = self.modulation
        return time_on_air(lora_bytes, m.sf, m.bw_hz, self.cr, preamble=self.preamble)

    def mean_airtime_s(self) -> float:
        """Mean airtime over the uniform size range."""
        sizes = range(self.min_bytes, self.max_bytes + 1)
        return sum(self.airtime_s(n) for n in sizes) / len(sizes)


# Meshtastic LONG_FAST (SF11, 250 kHz, CR 4/5, 16-symbol preamble): 16-byte header plus typical
# position / telemetry / node-info / text payloads.
PUBLIC_MESH = ForeignKind("meshtastic-longfast", Modulation(11, 250_000), 5, 16, 40, 120)
# MeshCore's EU/UK narrow default: 869.618 MHz, SF8, 62.5 kHz, CR 4/8, 16-symbol preamble; adverts
# and messages.
MESHCORE = ForeignKind("meshcore", Modulation(8, 62_500, 869.618e6), 8, 16, 40, 160)


@dataclass
class ForeignSource:
    """One foreign transmitter: where it stands, what it sends, how often, its own ledger."""

    index: int  # negative: the medium's sender id for it
    kind: ForeignKind
    lat: float
    lon: float
    antenna_m: float
    rate_per_s: float
    paths: PathSet
    ledger: DutyCycleLedger
    frames: int = 0
    refused: int = 0


class Background:
    """The foreign sources of one run and the frames they send (ticks, no clock)."""

    def __init__(self, topology: Topology, preset: Preset, model: ChannelModel, utilisation: float,
                 seed: int) -> None:
        if not 0.0 <= utilisation <= MAX_UTILISATION:
            raise ValueError(f"--background must be in 0..{MAX_UTILISATION}, got {utilisation}")
        self.utilisation = utilisation
        self.rng = derived_rng(seed, "background")
        self.sources: list[ForeignSource] = []
        if utilisation == 0:
            return
        offered = -math.log(1.0 - utilisation)
        count = max(MIN_SOURCES, math.ceil(offered / SOURCE_LOAD))
        floor = model.rx_threshold_dbm(preset) - INTERFERENCE_RANGE_DB
        lats = [n.lat for n in topology.nodes]
        lons = [n.lon for n in topology.nodes]
        rng = self.rng
        for k in range(count):
            kind = PUBLIC_MESH if k < round(count * PUBLIC_SHARE) else MESHCORE
            share = PUBLIC_SHARE if kind is PUBLIC_MESH else 1.0 - PUBLIC_SHARE
            per_kind = sum(1 for j in range(count) if (j < round(count * PUBLIC_SHARE)) == (kind is PUBLIC_MESH))
            lat = rng.uniform(min(lats) - MARGIN_DEG, max(lats) + MARGIN_DEG)
            lon = rng.uniform(min(lons) - MARGIN_DEG, max(lons) + MARGIN_DEG)
            antenna = rng.uniform(1.5, 12.0)
            paths = []
            for i, node in enumerate(topology.nodes):
                mean = model.mean_rx_dbm(distance_m(lat, lon, node.lat, node.lon), antenna, node.antenna_m)
                if mean >= floor:
                    paths.append(Neighbour(i, mean, 0.0))
            rate = offered * share / per_kind / kind.mean_airtime_s()
            self.sources.append(ForeignSource(-1 - k, kind, lat, lon, antenna, rate, PathSet(paths),
                                              DutyCycleLedger(EU868_DUTY_CYCLE, "strict", keep_history=False)))

    def next_at(self, source: ForeignSource, now: int) -> int:
        """When the source's next frame is due (exponential gap; at least one tick later)."""
        return now + max(1, round(self.rng.expovariate(source.rate_per_s) * TICKS_PER_SECOND))

    def frame(self, source: ForeignSource, now: int) -> int | None:
        """The end tick of the frame the source sends now, or None if its duty cycle refuses it."""
        size = self.rng.randint(source.kind.min_bytes, source.kind.max_bytes)
        airtime = round(source.kind.airtime_s(size) * TICKS_PER_SECOND)
        if not source.ledger.allows(now, airtime):
            source.refused += 1
            return None
        source.ledger.record(now, now + airtime)
        source.frames += 1
        return now + airtime
