"""The physical lower bound on airtime: a minimum connected dominating set times the frames.

Every node must hear every byte of the work at least once, and only nodes that transmit can
pass it on, so the transmitting nodes form a connected dominating set of the usable-link
graph that contains the source. Each of them must send the work at least once in full
frames: ``ceil(size / 231)`` frames of ``231 + 16`` bytes on air.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from node.lora import MAX_APP_PAYLOAD

EXACT_LIMIT = 30  # exact search up to this many reachable nodes, greedy above
MAX_FRAME_PAYLOAD = MAX_APP_PAYLOAD


@dataclass(frozen=True)
class DominatingSet:
    """A connected dominating set containing the source, and how it was found."""

    members: tuple[int, ...]
    exact: bool
    reachable: int  # nodes reachable from the source over usable links (the set dominates these)


def bound_airtime(size: int, full_frame_airtime: float, mcds_size: int) -> float:
    """``ceil(size/231) · airtime(231+16) · |MCDS|`` seconds."""
    return math.ceil(size / MAX_FRAME_PAYLOAD) * full_frame_airtime * mcds_size


def _component(adjacency: list[list[int]], source: int) -> list[int]:
    seen = {source}
    order = [source]
    for x in order:
        for y in adjacency[x]:
            if y not in seen:
                seen.add(y)
                order.append(y)
    return sorted(order)


def min_connected_dominating_set(adjacency: list[list[int]], source: int,
                                 exact_limit: int = EXACT_LIMIT) -> DominatingSet:
    """Smallest connected set containing ``source`` that dominates the source's component.

    Exact (branch and bound over connected sets grown from the source) when the component has
    at most ``exact_limit`` nodes; otherwise the greedy grow-from-source heuristic.
    """
    nodes = _component(adjacency, source)
    if len(nodes) <= exact_limit:
        return DominatingSet(_exact(adjacency, source, nodes), True, len(nodes))
    return DominatingSet(_greedy(adjacency, source, nodes), False, len(nodes))


def _greedy(adjacency: list[list[int]], source: int, nodes: list[int]) -> tuple[int, ...]:
    chosen = [source]
    in_set = {source}
    covered = {source, *adjacency[source]}
    target = len(nodes)
    while len(covered) < target:
        frontier = sorted({y for x in chosen for y in adjacency[x] if y not in in_set})
        best = max(frontier, key=lambda v: (len(set(adjacency[v]) - covered), -v))
        chosen.append(best)
        in_set.add(best)
        covered.update(adjacency[best])
    return tuple(sorted(chosen))


def _exact(adjacency: list[list[int]], source: int, nodes: list[int]) -> tuple[int, ...]:
    pos = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    nbr = [0] * n
    for v in nodes:
        for w in adjacency[v]:
            nbr[pos[v]] |= 1 << pos[w]
    closed = [nbr[i] | (1 << i) for i in range(n)]
    full = (1 << n) - 1
    max_cover = max(bin(c).count("1") for c in closed)
    greedy = _greedy(adjacency, source, nodes)
    best: list[int] = [sum(1 << pos[v] for v in greedy)]
    best_size = [len(greedy)]

    def search(members: int, size: int, candidates: int, forbidden: int, covered: int) -> None:
        if covered == full:
            if size < best_size[0]:
                best_size[0], best[0] = size, members
            return
        uncovered = bin(full & ~covered).count("1")
        # each further member covers at most max_cover new nodes
        if size + -(-uncovered // max_cover) >= best_size[0] or not candidates:
            return
        # branch on the candidate covering most uncovered nodes
        pick, gain, rest = -1, -1, candidates
        while rest:
            low = rest & -rest
            i = low.bit_length() - 1
            g = bin(closed[i] & ~covered).count("1")
            if g > gain:
                pick, gain = i, g
            rest ^= low
        bit = 1 << pick
        search(members | bit, size + 1, (candidates | nbr[pick]) & ~(members | bit) & ~forbidden,
               forbidden, covered | closed[pick])
        search(members, size, candidates & ~bit, forbidden | bit, covered)

    s = pos[source]
    search(1 << s, 1, nbr[s], 0, closed[s])
    return tuple(sorted(nodes[i] for i in range(n) if best[0] >> i & 1))
