"""The cut-set lower bounds: least expected airtime, and least expected time, to spread works.

Why these are bounds (``docs/simulator.md``, "The lower bound"): a frame that node ``u`` sends
reaches at least one node outside a set ``A`` with probability at most
``c_u(A) = 1 − Π_{v∉A}(1 − p(u→v))``, whatever was sent before, because the world draws fading
and loss afresh for every frame and receiver. By Wald's identity the expected number of frames
that cross the cut is at most ``Σ_{u∈A} E[x_u]·c_u(A)``; the nodes outside ``A`` must together
receive the whole work, ``K`` full frames' worth at the best payload bytes per second of airtime.
So every cut ``A`` that holds the source and not every reachable node gives
``Σ_{u∈A} x_u·c_u(A) ≥ K`` on the expected frames ``x``: the min-cut capacity of a wireless erasure
network (Dana, Gowaikar, Palanki, Hassibi and Effros, IEEE Trans. IT 52(3), 2006). Minimising
``Σ x_u`` under them is a linear programme; ideal coding makes the fractional optimum reachable in
principle, and any subset of the cuts still gives a valid (weaker) bound.

The programme is solved with HiGHS and constraint generation. Separation (the most violated
cut for the current ``x``) is exhaustive over every cut when the source reaches at most
``EXACT_SEPARATION_LIMIT`` nodes, and a local search (greedy chains, reliability balls and random
sets, each improved by single flips) above that, so ``exact`` says whether the optimum over *all*
cuts was proven.

Nodes the source cannot reach (no chain of links with p > 0) are left out: they can never complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import dijkstra
from scipy.special import ndtr

from node.lora import MAX_APP_PAYLOAD, Preset
from simulator.channel.links import LinkTable

EXACT_SEPARATION_LIMIT = 22  # exhaustive separation up to this many reachable nodes (2^21 cuts)
VIOLATION_TOL = 1e-6  # a cut counts as violated when it carries less than 1 − this of the work
CUTS_PER_ROUND = 16  # most violated new cuts added per demand and round
MAX_ROUNDS = 200
TIE_BREAK = 1e-2  # spread of the airtime weights in the time programme's feasibility step
LOCAL_SEARCH_RANDOM_STARTS = 32
LOCAL_SEARCH_DESCENTS = 24  # 1-flip descents from the best starts
LOCAL_SEARCH_SEED = 12
_CHUNK = 1 << 16  # cuts evaluated per numpy batch in exhaustive separation
_LOW_BITS = 10  # exhaustive separation: bits of the cut code in the small table
_MISS_FLOOR = 1e-300  # log(1 − p) for p = 1: exp of any sum of these is 0, so c_u = 1 exactly

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def delivery_matrix(mean_dbm: FloatArray, threshold_dbm: float, sigma_db: float, loss: float,
                    extra_loss: FloatArray) -> FloatArray:
    """Per-frame delivery probability ``p[u, v]`` of every directed link.

    ``Φ((mean − threshold)/σ) · (1 − loss) · (1 − extra_loss)``: the world draws the received power
    as the link's mean plus N(0, σ²) per frame and receiver, decodes it at or above the threshold,
    then drops it with ``loss`` and the link's own ``extra_loss``. ``σ = 0`` makes the first factor
    a step. ``mean_dbm`` is n×n with ``-inf`` where there is no link; the diagonal is 0.
    """
    mean = np.asarray(mean_dbm, dtype=np.float64)
    extra = np.asarray(extra_loss, dtype=np.float64)
    if mean.ndim != 2 or mean.shape[0] != mean.shape[1]:
        raise ValueError(f"mean_dbm must be a square matrix, got shape {mean.shape}")
    if extra.shape != mean.shape:
        raise ValueError(f"extra_loss has shape {extra.shape}, mean_dbm {mean.shape}")
    if not sigma_db >= 0:
        raise ValueError(f"sigma_db must be 0 or more, got {sigma_db}")
    if not 0.0 <= loss <= 1.0:
        raise ValueError(f"loss must be in 0..1, got {loss}")
    if np.any((extra < 0) | (extra > 1)):
        raise ValueError("extra_loss values must be in 0..1")
    margin = mean - threshold_dbm
    decodable = ndtr(margin / sigma_db) if sigma_db > 0 else (margin >= 0).astype(np.float64)
    p: FloatArray = decodable * (1.0 - loss) * (1.0 - extra)
    np.fill_diagonal(p, 0.0)
    return p


def delivery_from_links(links: LinkTable, sigma_db: float, loss: float) -> FloatArray:
    """:func:`delivery_matrix` for a world's link table (links it does not list deliver nothing)."""
    n = len(links.neighbours)
    mean = np.full((n, n), -np.inf)
    extra = np.zeros((n, n))
    for u, row in enumerate(links.neighbours):
        for nb in row:
            mean[u, nb.receiver] = nb.mean_dbm
            extra[u, nb.receiver] = nb.extra_loss
    return delivery_matrix(mean, links.threshold_dbm, sigma_db, loss, extra)


def full_frame_airtime(preset: Preset) -> float:
    """Seconds on air of a full frame (a ``MAX_APP_PAYLOAD``-byte payload) at ``preset``."""
    return preset.frame_airtime(MAX_APP_PAYLOAD)


def payload_per_full_frame(preset: Preset) -> float:
    """Application bytes a full frame's airtime can carry at the preset's best bytes per second.

    Time on air grows in whole symbols, so at some presets a slightly shorter payload carries more
    bytes per second than a full one (229 bytes at SHORT_FAST and LONG_FAST); at MEDIUM_FAST this is
    exactly ``MAX_APP_PAYLOAD``. Dividing a work's size by this, not by 231, keeps the bound valid.
    """
    best_rate = max(b / preset.frame_airtime(b) for b in range(1, MAX_APP_PAYLOAD + 1))
    return best_rate * full_frame_airtime(preset)


@dataclass(frozen=True)
class WorkDemand:
    """One work to spread: who publishes it, how many payload bytes, and when."""

    source: int
    payload_bytes: int
    publish_s: float = 0.0


@dataclass(frozen=True)
class CutSetBound:
    """The least expected airtime to spread one work, and the programme's solution."""

    airtime_s: float
    frames: tuple[float, ...]  # expected full frames per node at the optimum (0 for unreachable nodes)
    cuts: tuple[tuple[int, ...], ...]  # the binding cuts (node indices on the source's side)
    exact: bool  # separation was exhaustive and found no violated cut


class _CutFamily:
    """The cuts around one source and the pool of those found so far (the pool's one owner).

    Nodes are local positions in ``members`` (the nodes the source reaches, sorted); a cut is a
    boolean vector over them, True on the source's side.
    """

    def __init__(self, delivery: FloatArray, source: int, exact_limit: int) -> None:
        self.members = _reachable(delivery, source)
        self.source = int(np.searchsorted(self.members, source))
        sub = delivery[np.ix_(self.members, self.members)]
        self.log_miss: FloatArray = np.log(np.maximum(1.0 - sub, _MISS_FLOOR))  # [u, v]: log(1 − p(u→v))
        self.exhaustive = self.size <= exact_limit
        self.pool: list[BoolArray] = []
        self._known: set[bytes] = set()
        self._rng = np.random.default_rng((LOCAL_SEARCH_SEED, source, self.size))
        for cut in self._initial_cuts():
            self.add(cut)

    @property
    def size(self) -> int:
        """Nodes the source reaches, itself included."""
        return len(self.members)

    def add(self, inside: BoolArray) -> bool:
        """Put a cut in the pool; False when it was there already."""
        key = inside.tobytes()
        if key in self._known:
            return False
        self._known.add(key)
        self.pool.append(inside.copy())
        return True

    def coefficients(self, inside: BoolArray) -> FloatArray:
        """``c_u(A)`` for every u on the source's side of the cut, 0 elsewhere."""
        miss = self.log_miss[:, ~inside].sum(axis=1)
        coefficients: FloatArray = np.where(inside, -np.expm1(miss), 0.0)
        return coefficients

    def values(self, inside: BoolArray, z: FloatArray) -> FloatArray:
        """``Σ_{u∈A} z_u·c_u(A)`` for each cut (row) of ``inside``."""
        support = np.flatnonzero(z > 0)
        if support.size == 0:
            return np.zeros(len(inside))
        miss = (~inside).astype(np.float64) @ self.log_miss[support].T
        values: FloatArray = (inside[:, support] * -np.expm1(miss)) @ z[support]
        return values

    def separate(self, z: FloatArray) -> list[BoolArray]:
        """New cuts that ``z`` (frames per unit of work) violates, most violated first."""
        if self.size < 2:
            return []
        found = self._exhaustive(z) if self.exhaustive else self._local_search(z)
        return [cut for _, cut in sorted(found, key=lambda item: item[0]) if cut.tobytes() not in self._known]

    def _cut_matrix(self, others: BoolArray) -> BoolArray:
        inside = np.ones((len(others), self.size), dtype=np.bool_)
        inside[:, np.arange(self.size) != self.source] = others
        return inside

    def _exhaustive(self, z: FloatArray) -> list[tuple[float, BoolArray]]:
        """Every cut, as a code whose bit i says whether the i-th other node is on the source's side.

        ``Π_{v∉A} q_uv`` splits into a product over the low bits and one over the high bits, so two
        small tables (one row per half-code) replace a product per cut.
        """
        support = np.flatnonzero(z > 0)
        if support.size == 0:
            return []
        others = np.flatnonzero(np.arange(self.size) != self.source)
        m = len(others)
        low_bits = min(m, _LOW_BITS)
        miss = np.exp(self.log_miss[np.ix_(support, others)]).T  # [bit, support node]: 1 − p
        inside = np.zeros((m, len(support)), dtype=np.bool_)  # [bit, support node]: that node is this bit
        inside[np.searchsorted(others, support[support != self.source]), np.flatnonzero(support != self.source)] = True
        is_source = support == self.source

        def table(bits: range) -> tuple[FloatArray, BoolArray]:
            product = np.ones((1, len(support)))
            member = np.broadcast_to(is_source, (1, len(support))).copy()
            for i in bits:  # index = old index + 2^(i - first) · bit i
                product = np.concatenate([product * miss[i], product])
                member = np.concatenate([member, member | inside[i]])
            return product, member

        low_product, low_member = table(range(low_bits))
        high_product, high_member = table(range(low_bits, m))
        weights = z[support]
        last = (1 << m) - 1  # every other node on the source's side: not a cut
        best_values: list[FloatArray] = []
        best_codes: list[NDArray[np.int64]] = []
        rows = max(1, _CHUNK >> low_bits)
        for first in range(0, len(high_product), rows):
            product = high_product[first:first + rows, None, :] * low_product[None, :, :]
            member = high_member[first:first + rows, None, :] | low_member[None, :, :]
            values = (np.where(member, 1.0 - product, 0.0) @ weights).ravel()
            codes = (np.arange(first, first + len(product), dtype=np.int64)[:, None] << low_bits
                     | np.arange(len(low_product), dtype=np.int64)[None, :]).ravel()
            hits = np.flatnonzero((values < 1.0 - VIOLATION_TOL) & (codes != last))
            if hits.size > CUTS_PER_ROUND:
                hits = hits[np.argpartition(values[hits], CUTS_PER_ROUND)[:CUTS_PER_ROUND]]
            best_values.append(values[hits])
            best_codes.append(codes[hits])
        all_values = np.concatenate(best_values)
        all_codes = np.concatenate(best_codes)
        keep = np.argsort(all_values, kind="stable")[:CUTS_PER_ROUND]
        bits = ((all_codes[keep, None] >> np.arange(m, dtype=np.int64)) & 1).astype(np.bool_)
        cuts = self._cut_matrix(bits)
        return [(float(all_values[k]), cut) for k, cut in zip(keep, cuts, strict=True)]

    def _local_search(self, z: FloatArray) -> list[tuple[float, BoolArray]]:
        starts = np.concatenate([self._balls(), self._greedy_chain(z), self._random_sets()])
        start_values = self.values(starts, z)
        order = np.argsort(start_values, kind="stable")
        found: dict[bytes, tuple[float, BoolArray]] = {}
        for i in order[:LOCAL_SEARCH_DESCENTS]:
            value, cut = self._descend(starts[i], float(start_values[i]), z)
            if value < 1.0 - VIOLATION_TOL:
                found.setdefault(cut.tobytes(), (value, cut))
        for i in order:  # starts that are violated already count too
            if start_values[i] < 1.0 - VIOLATION_TOL:
                found.setdefault(starts[i].tobytes(), (float(start_values[i]), starts[i]))
        return sorted(found.values(), key=lambda item: item[0])[:CUTS_PER_ROUND]

    def _descend(self, inside: BoolArray, value: float, z: FloatArray) -> tuple[float, BoolArray]:
        """Best single flips (never the source, never to the whole set) until none lowers the value."""
        flippable = np.flatnonzero(np.arange(self.size) != self.source)
        for _ in range(4 * self.size):
            candidates = np.repeat(inside[None, :], len(flippable), axis=0)
            candidates[np.arange(len(flippable)), flippable] ^= True
            candidates = candidates[~candidates.all(axis=1)]
            if len(candidates) == 0:
                break
            values = self.values(candidates, z)
            best = int(np.argmin(values))
            if values[best] >= value - 1e-12:
                break
            inside, value = candidates[best], float(values[best])
        return value, inside

    def _balls(self) -> BoolArray:
        """Nested sets of the nodes most reliably reachable from the source (by Π p along a path)."""
        p = -np.expm1(self.log_miss)
        with np.errstate(divide="ignore"):
            cost = np.where(p > 0, 1e-9 - np.log(p), 0.0)  # the 1e-9 keeps p = 1 links as edges
        distance = dijkstra(sparse.csr_matrix(cost), indices=self.source)
        order = np.argsort(distance, kind="stable")
        rank = np.empty(self.size, dtype=np.int64)
        rank[order] = np.arange(self.size)
        balls: BoolArray = rank[None, :] <= np.arange(self.size - 1)[:, None]
        return balls

    def _greedy_chain(self, z: FloatArray) -> BoolArray:
        """From the source, add each time the node whose joining leaves the least across the cut."""
        inside = np.zeros(self.size, dtype=np.bool_)
        inside[self.source] = True
        chain = []
        for _ in range(self.size - 2):
            outside = np.flatnonzero(~inside)
            candidates = np.repeat(inside[None, :], len(outside), axis=0)
            candidates[np.arange(len(outside)), outside] = True
            inside = candidates[int(np.argmin(self.values(candidates, z)))]
            chain.append(inside)
        return np.array(chain, dtype=np.bool_).reshape(-1, self.size)

    def _random_sets(self) -> BoolArray:
        others = self._rng.random((LOCAL_SEARCH_RANDOM_STARTS, self.size - 1)) < self._rng.random(
            (LOCAL_SEARCH_RANDOM_STARTS, 1))
        sets = self._cut_matrix(others)
        return sets[~sets.all(axis=1)]

    def _initial_cuts(self) -> list[BoolArray]:
        """The source alone, and everything but one node (each node must hear the whole work)."""
        if self.size < 2:
            return []
        cuts = [np.arange(self.size) == self.source]
        cuts += [np.arange(self.size) != v for v in range(self.size) if v != self.source]
        return cuts


def _reachable(delivery: FloatArray, source: int) -> NDArray[np.int64]:
    seen = np.zeros(len(delivery), dtype=np.bool_)
    seen[source] = True
    frontier = [source]
    while frontier:
        nxt = np.flatnonzero((delivery[frontier] > 0).any(axis=0) & ~seen)
        seen[nxt] = True
        frontier = nxt.tolist()
    return np.flatnonzero(seen)


def _check_delivery(delivery: FloatArray) -> FloatArray:
    p = np.asarray(delivery, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ValueError(f"the delivery matrix must be square, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("delivery probabilities must be in 0..1")
    return p


def _check_demand(p: FloatArray, source: int, payload_bytes: int, full_frame_s: float, frame_payload: float) -> None:
    if not 0 <= source < len(p):
        raise ValueError(f"source {source} is not a node (0..{len(p) - 1})")
    if payload_bytes < 0:
        raise ValueError(f"payload_bytes must be 0 or more, got {payload_bytes}")
    if not full_frame_s > 0 or not frame_payload > 0:
        raise ValueError("full_frame_s and frame_payload must be positive")


def _solve_unit(family: _CutFamily) -> tuple[FloatArray, list[BoolArray], bool]:
    """Least Σ z with Σ_{u∈A} z_u·c_u(A) ≥ 1 on every cut: frames per full frame of work.

    Returns the optimum, the binding cuts, and whether separation proved no cut is violated.
    Stopping after ``MAX_ROUNDS`` still gives a valid bound: the optimum over the cuts it had.
    """
    if family.size < 2:
        return np.zeros(family.size), [], True
    converged = False
    for _ in range(MAX_ROUNDS):
        rows = np.array([family.coefficients(cut) for cut in family.pool])
        result = linprog(np.ones(family.size), A_ub=-rows, b_ub=-np.ones(len(rows)), bounds=(0, None),
                         method="highs")
        if result.status != 0:
            raise RuntimeError(f"HiGHS failed on the cut-set programme: {result.message}")
        new = family.separate(np.asarray(result.x, dtype=np.float64))
        if not new:
            converged = True
            break
        for cut in new:
            family.add(cut)
    pool = family.pool[: len(rows)]
    binding = [cut for cut, dual in zip(pool, result.ineqlin.marginals, strict=True) if dual < -1e-9]
    return np.asarray(result.x, dtype=np.float64), binding, converged and family.exhaustive


def cut_set_bound(delivery: FloatArray, source: int, payload_bytes: int, full_frame_s: float, *,
                  frame_payload: float = MAX_APP_PAYLOAD,
                  exact_limit: int = EXACT_SEPARATION_LIMIT) -> CutSetBound:
    """Least expected airtime for every node ``source`` reaches to hold a work of ``payload_bytes``.

    ``delivery`` is the :func:`delivery_matrix`; ``full_frame_s`` the airtime of one full frame and
    ``frame_payload`` the bytes it counts for (:func:`payload_per_full_frame`; 231 by default).
    Separation is exhaustive up to ``exact_limit`` reachable nodes, a local search above.
    """
    p = _check_delivery(delivery)
    _check_demand(p, source, payload_bytes, full_frame_s, frame_payload)
    family = _CutFamily(p, source, exact_limit)
    z, binding, exact = _solve_unit(family)
    work_frames = payload_bytes / frame_payload
    frames = np.zeros(len(p))
    frames[family.members] = work_frames * z
    cuts = tuple(tuple(int(v) for v in family.members[cut]) for cut in binding)
    return CutSetBound(float(work_frames * z.sum() * full_frame_s), tuple(float(f) for f in frames), cuts, exact)


def workload_airtime_bound(delivery: FloatArray, works: Sequence[WorkDemand], full_frame_s: float, *,
                           frame_payload: float = MAX_APP_PAYLOAD,
                           exact_limit: int = EXACT_SEPARATION_LIMIT) -> float:
    """Least expected airtime for a workload: the sum of :func:`cut_set_bound` over its works.

    Assumes no coding across works (every frame carries one work's data), so each work must
    cross every cut on its own frames; publish times do not change airtime.
    """
    p = _check_delivery(delivery)
    unit: dict[int, float] = {}
    total = 0.0
    for work in works:
        _check_demand(p, work.source, work.payload_bytes, full_frame_s, frame_payload)
        if work.source not in unit:
            z, _, _ = _solve_unit(_CutFamily(p, work.source, exact_limit))
            unit[work.source] = float(z.sum())
        total += work.payload_bytes / frame_payload * unit[work.source] * full_frame_s
    return total


@dataclass(frozen=True)
class _Demand:
    """Works with the same source and publish time: interchangeable in the time programme."""

    source: int
    publish_s: float
    airtime_s: float  # the works' full frames times the full-frame airtime


class _TimeProgramme:
    """Variables: frames per unit of work for each demand and reachable node, then the horizon T.

    Rows: the cuts of each demand (generated), and for each publish time s, over the demands
    published at s or later, every node's airtime within the concave hull of the most a rolling
    window allows in T − s, and every node's decoded plus sent airtime within T − s.
    """

    def __init__(self, p: FloatArray, works: Sequence[WorkDemand], full_frame_s: float, duty_cycle: float,
                 window_s: float, frame_payload: float, exact_limit: int) -> None:
        grouped: dict[tuple[int, float], float] = {}
        for work in works:
            _check_demand(p, work.source, work.payload_bytes, full_frame_s, frame_payload)
            if not work.publish_s >= 0:
                raise ValueError(f"publish_s must be 0 or more, got {work.publish_s}")
            key = (work.source, float(work.publish_s))
            grouped[key] = grouped.get(key, 0.0) + work.payload_bytes / frame_payload * full_frame_s
        self.demands = [_Demand(s, t, a) for (s, t), a in sorted(grouped.items()) if a > 0]
        self.families: dict[int, _CutFamily] = {}
        for d in self.demands:
            if d.source not in self.families:
                self.families[d.source] = _CutFamily(p, d.source, exact_limit)
        self.offsets: list[int] = []
        size = 0
        for d in self.demands:
            self.offsets.append(size)
            size += self.families[d.source].size
        self.horizon = size  # the column of T
        self.columns = size + 1
        self.earliest = max((w.publish_s for w in works), default=0.0)
        self._budget_rows, self._budget_rhs = self._budgets(duty_cycle, window_s)
        self._cut_rows: list[sparse.csr_matrix] = []
        self._cuts_added = [0] * len(self.demands)

    def _budgets(self, duty: float, window: float) -> tuple[sparse.csr_matrix, FloatArray]:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        rhs: list[float] = []
        for s in sorted({d.publish_s for d in self.demands}):
            terms: dict[int, list[tuple[int, float]]] = {}
            received: dict[int, float] = {}
            for i, d in enumerate(self.demands):
                if d.publish_s < s:
                    continue
                family = self.families[d.source]
                for local, node in enumerate(family.members):
                    terms.setdefault(int(node), []).append((self.offsets[i] + local, d.airtime_s))
                    if local != family.source:
                        received[int(node)] = received.get(int(node), 0.0) + d.airtime_s
            for node in sorted(terms):
                # most a rolling window allows in T − s, concave hull: min(T − s, d(T − s) + (1 − d)·d·W)
                # (the first half is implied by the receiver row below)
                for coefficient, bound in ((duty, -duty * s + (1 - duty) * duty * window),
                                           (1.0, -s - received.get(node, 0.0))):
                    row = len(rhs)
                    for column, airtime in terms[node]:
                        rows.append(row)
                        cols.append(column)
                        vals.append(airtime)
                    rows.append(row)
                    cols.append(self.horizon)
                    vals.append(-coefficient)
                    rhs.append(bound)
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(rhs), self.columns))
        return matrix, np.array(rhs, dtype=np.float64)

    def _add_cuts(self) -> None:
        for i, d in enumerate(self.demands):
            family = self.families[d.source]
            new = family.pool[self._cuts_added[i]:]
            if not new:
                continue
            block = np.array([family.coefficients(cut) for cut in new])
            r, c = np.nonzero(block)
            self._cut_rows.append(sparse.csr_matrix((-block[r, c], (r, c + self.offsets[i])),
                                                    shape=(len(new), self.columns)))
            self._cuts_added[i] = len(family.pool)

    def solve(self, horizon_s: float | None) -> float | None:
        """Least T (or, given ``horizon_s``, that T itself) for which the rows hold; None if none does.

        Minimising T alone leaves the frames of nodes that do not bind T anywhere in a wide
        region, so separating at that vertex finds new violated cuts round after round while T
        stays put. Instead: take the least T over the cuts found so far (valid: any subset of
        cuts gives a bound), then look for the least-airtime frames at that T with separation,
        which settles like the single-work programme. Frames that meet every cut prove T optimal;
        if none exist, the new cuts raise T and the two steps repeat.
        """
        if not self.demands:
            return self.earliest if horizon_s is None else (horizon_s if horizon_s >= self.earliest else None)
        airtime = np.zeros(self.columns)
        for i, d in enumerate(self.demands):
            airtime[self.offsets[i]: self.offsets[i] + self.families[d.source].size] = d.airtime_s
        # distinct weights (golden-ratio steps) make the least-airtime vertex unique, so separation
        # does not wander over a flat optimal face
        airtime[: self.horizon] *= 1.0 + TIE_BREAK * ((np.arange(self.horizon) * 0.6180339887) % 1.0)
        if horizon_s is not None:
            return None if self._optimise(airtime, (horizon_s, horizon_s), MAX_ROUNDS) is None else horizon_s
        horizon = np.zeros(self.columns)
        horizon[self.horizon] = 1.0
        least = self.earliest
        for _ in range(MAX_ROUNDS):
            x = self._optimise(horizon, (self.earliest, None), 1)
            assert x is not None  # T is unbounded above, so some T meets every cut
            least = max(least, float(x[self.horizon]))
            if self._optimise(airtime, (least * (1 + 1e-9), least * (1 + 1e-9)), MAX_ROUNDS) is not None:
                break
        return least

    def _optimise(self, objective: FloatArray, t_bounds: tuple[float, float | None],
                  rounds: int) -> FloatArray | None:
        """Optimum over the generated cuts, then up to ``rounds - 1`` times: add violated cuts, re-solve.

        None when the rows cannot all hold.
        """
        bounds = [(0.0, None)] * self.horizon + [t_bounds]
        x = None
        for _ in range(rounds):
            self._add_cuts()
            cut_matrix = sparse.vstack(self._cut_rows)
            a_ub = sparse.vstack([self._budget_rows, cut_matrix]).tocsr()
            b_ub = np.concatenate([self._budget_rhs, -np.ones(cut_matrix.shape[0])])
            result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
            if result.status == 2:
                return None
            if result.status != 0:
                raise RuntimeError(f"HiGHS failed on the time programme: {result.message}")
            x = np.asarray(result.x, dtype=np.float64)
            if rounds == 1:
                break
            found = False
            for i, d in enumerate(self.demands):
                family = self.families[d.source]
                z = x[self.offsets[i]: self.offsets[i] + family.size]
                for cut in family.separate(z):
                    found |= family.add(cut)
            if not found:
                break
        return x


def _check_duty(duty_cycle: float, window_s: float) -> None:
    if not 0 < duty_cycle <= 1:
        raise ValueError(f"duty_cycle must be in (0, 1], got {duty_cycle}")
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s}")


def time_bound(delivery: FloatArray, works: Sequence[WorkDemand], full_frame_s: float,
               duty_cycle: float = 0.10, window_s: float = 3600.0, *, frame_payload: float = MAX_APP_PAYLOAD,
               exact_limit: int = EXACT_SEPARATION_LIMIT) -> float:
    """Least expected time until every node holds every work it can be reached with.

    The per-work cut constraints of :func:`cut_set_bound`, plus, for every publish time s and the
    works published at s or later (none of their frames can be sent before s):

    * duty cycle: a node's airtime for them is at most ``min(T−s, d(T−s) + (1−d)·d·W)``, the least
      concave bound on what a rolling window ``W`` at duty ``d`` allows in ``T − s`` (exact at
      ``T − s = kW + dW``; concave so that it bounds expectations, by Jensen);
    * one decoder, half duplex: a node decodes at least each such work it does not publish (its
      full-frame airtime) and sends its own frames, one at a time, within ``T − s``.

    Works from the same source published at the same time are merged (the programme is the same).
    The result is at least ``t_w`` plus the single-work bound of every work ``w``.
    """
    p = _check_delivery(delivery)
    _check_duty(duty_cycle, window_s)
    programme = _TimeProgramme(p, works, full_frame_s, duty_cycle, window_s, frame_payload, exact_limit)
    horizon = programme.solve(None)
    assert horizon is not None  # T is unbounded above, so the programme always has a solution
    return horizon


def time_feasible(delivery: FloatArray, works: Sequence[WorkDemand], full_frame_s: float, horizon_s: float,
                  duty_cycle: float = 0.10, window_s: float = 3600.0, *, frame_payload: float = MAX_APP_PAYLOAD,
                  exact_limit: int = EXACT_SEPARATION_LIMIT) -> bool:
    """Whether :func:`time_bound`'s constraints hold at horizon ``horizon_s`` (it is the least such)."""
    p = _check_delivery(delivery)
    _check_duty(duty_cycle, window_s)
    programme = _TimeProgramme(p, works, full_frame_s, duty_cycle, window_s, frame_payload, exact_limit)
    return programme.solve(horizon_s) is not None
