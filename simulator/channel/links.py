"""Precomputed link budgets: who can hear whom, and at what mean power.

Computed once per run so that a transmission only visits its sender's neighbour list. A
receiver is a neighbour when the link's mean power is within ``INTERFERENCE_RANGE_DB`` of the
decoding threshold: weaker signals can neither be decoded nor stop a decodable one (they are at
least 20 dB below it, far beyond the 6 dB capture margin, even after shadowing).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.channel.propagation import ChannelModel, Preset, distance_m
from simulator.scenarios import LinkOverride, Topology

INTERFERENCE_RANGE_DB = 20.0


@dataclass(frozen=True)
class Neighbour:
    """One directed link from a sender's point of view."""

    receiver: int
    mean_dbm: float
    extra_loss: float  # per-link drop probability from the topology file


class PathSet:
    """One sender's paths, also as arrays: the medium draws a frame's fading for all of them at once."""

    __slots__ = ("extra_loss", "mean", "neighbours", "receivers")

    def __init__(self, neighbours: Sequence[Neighbour]) -> None:
        self.neighbours = list(neighbours)
        self.receivers = [n.receiver for n in self.neighbours]
        self.extra_loss = [n.extra_loss for n in self.neighbours]
        self.mean = np.array([n.mean_dbm for n in self.neighbours], dtype=float)

    def __len__(self) -> int:
        return len(self.neighbours)


class LinkTable:
    """Mean received power for every useful directed link, and the usable-link graph."""

    def __init__(self, topology: Topology, preset: Preset, model: ChannelModel) -> None:
        nodes = topology.nodes
        n = len(nodes)
        self.threshold_dbm = model.rx_threshold_dbm(preset)
        self.usable_dbm = model.usable_threshold_dbm(preset)
        overrides: dict[tuple[int, int], LinkOverride] = {}
        for o in topology.links:
            a, b = topology.index(o.a), topology.index(o.b)
            overrides[(min(a, b), max(a, b))] = o
        floor = self.threshold_dbm - INTERFERENCE_RANGE_DB
        self.neighbours: list[list[Neighbour]] = [[] for _ in range(n)]
        self.usable: list[list[int]] = [[] for _ in range(n)]
        for a in range(n):
            na = nodes[a]
            for b in range(a + 1, n):
                nb = nodes[b]
                mean = model.mean_rx_dbm(distance_m(na.lat, na.lon, nb.lat, nb.lon), na.antenna_m, nb.antenna_m)
                extra_loss = 0.0
                override = overrides.get((a, b))
                if override is not None:
                    if override.state == "down":
                        continue
                    mean -= override.extra_db
                    if override.state == "up":
                        mean = max(mean, self.usable_dbm)
                    extra_loss = override.extra_loss
                if mean < floor:
                    continue
                self.neighbours[a].append(Neighbour(b, mean, extra_loss))
                self.neighbours[b].append(Neighbour(a, mean, extra_loss))
                if mean >= self.usable_dbm:
                    self.usable[a].append(b)
                    self.usable[b].append(a)
        self.paths = [PathSet(row) for row in self.neighbours]

    def hops_from(self, source: int) -> list[int | None]:
        """Fewest usable links from ``source`` to every node (None when unreachable)."""
        hops: list[int | None] = [None] * len(self.usable)
        hops[source] = 0
        queue = deque([source])
        while queue:
            x = queue.popleft()
            for y in self.usable[x]:
                if hops[y] is None:
                    hops[y] = (hops[x] or 0) + 1
                    queue.append(y)
        return hops
