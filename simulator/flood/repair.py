"""NACK-driven repair for the flood: ask for what is still missing, re-flood what others miss.

Not a firmware feature: what an application on plain Meshtastic broadcasts could add so that a
flood completes under loss.

* **Asking.** For every work a node has heard of and not completed, a quiet period
  (``quiet_s`` plus up to half as much again, at random) starts with each new piece of it. When it
  passes, the node broadcasts the missing list (``frames.Missing``) as a zero-hop packet: the
  manifest pieces first, then the chunks once the manifest verified. Asking again waits twice as
  long each time (up to ``max_backoff`` quiet periods) until a new piece arrives.
* **Suppression.** Hearing another node's missing list for the same work postpones the node's
  own ask by one quiet period: the re-flood that answers it reaches this node too.
* **Answering.** A node that hears a missing list and holds some of the pieces queues each for a
  re-flood after a random wait of up to ``answer_window_s``; hearing anyone send that piece first
  cancels it. A re-flood is a new packet from the answering node under the usual flooding rules,
  with hop limit ``answer_hop_limit``. The default, 0, reaches the asker (a neighbour: missing
  lists are zero-hop) and everyone around it, and is sent once, since nothing relays it to give
  an implicit ACK; a lost answer is asked for again. With the node's own hop limit (``None``,
  a reliable broadcast) every answer floods the whole neighbourhood again: on amsterdam-wide,
  32 KiB, loss 0.3, seed 1, flood-repair then used 2,744 s of airtime instead of 1,220 s.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

from simulator.flood.frames import Missing, Piece, PieceKey, missing_payloads
from simulator.flood.holdings import FloodHoldings


@dataclass(frozen=True)
class RepairConfig:
    """Timing of the repair."""

    quiet_s: float = 30.0
    answer_window_s: float = 3.0
    max_backoff: int = 8
    answer_hop_limit: int | None = 0  # 0: only the asker's neighbours hear it; None: the node's hop limit


@dataclass
class _Ask:
    at: float
    attempts: int = 0


class Repair:
    """One node's repair state: when to ask for each work, which pieces to re-flood for others."""

    def __init__(self, holdings: FloodHoldings, rng: random.Random, config: RepairConfig) -> None:
        self.holdings = holdings
        self.rng = rng
        self.config = config
        self._asks: dict[bytes, _Ask] = {}  # short id -> next ask
        self._answers: dict[PieceKey, float] = {}  # piece to re-flood -> when
        self._answer_heap: list[tuple[float, PieceKey]] = []
        self.asked = 0
        self.answered = 0
        self.suppressed = 0

    def start(self, now: float) -> None:
        """After a (re)boot: every incomplete work it knows gets a quiet period."""
        for short in self.holdings.known():
            self._asks[short] = _Ask(self._quiet(now))

    def heard_piece(self, piece: Piece, new: bool, now: float) -> None:
        """Someone sent ``piece``: no need to re-flood it; a new piece restarts the quiet period."""
        if self._answers.pop(piece.key, None) is not None:
            self.suppressed += 1
        if new:
            self._asks[piece.short] = _Ask(self._quiet(now))

    def heard_missing(self, missing: Missing, now: float) -> None:
        """Another node's missing list: postpone our own ask, queue re-floods of the pieces we hold."""
        ask = self._asks.get(missing.short)
        if ask is not None:
            ask.at = max(ask.at, now + self.config.quiet_s)
        for key in self.holdings.pieces_named(missing.short, missing.section, missing.indices):
            if key in self._answers or self.holdings.payload(key) is None:
                continue
            due = now + self.rng.uniform(0.0, self.config.answer_window_s)
            self._answers[key] = due
            heapq.heappush(self._answer_heap, (due, key))

    def due_asks(self, now: float) -> list[bytes]:
        """The missing-list payloads due now (works with nothing missing are forgotten)."""
        out: list[bytes] = []
        for short in sorted(self._asks):
            ask = self._asks[short]
            if ask.at > now + 1e-9:
                continue
            lacking = self.holdings.missing(short)
            if lacking is None:
                del self._asks[short]
                continue
            section, indices = lacking
            out += missing_payloads(short, section, indices)
            ask.attempts += 1
            ask.at = self._quiet(now, min(2**ask.attempts, self.config.max_backoff))
            self.asked += 1
        return out

    def next_answer(self, now: float, skip: set[PieceKey]) -> tuple[PieceKey, bytes] | None:
        """The next re-flood that is due, with its payload; pieces in ``skip`` are already on their way."""
        while self._answer_heap and self._answer_heap[0][0] <= now + 1e-9:
            due, key = heapq.heappop(self._answer_heap)
            if self._answers.get(key) != due:
                continue
            del self._answers[key]
            payload = self.holdings.payload(key)
            if payload is None or key in skip:
                continue
            self.answered += 1
            return key, payload
        return None

    def next_ask(self) -> float | None:
        """When the next missing list may be due."""
        return min((a.at for a in self._asks.values()), default=None)

    def next_answer_due(self) -> float | None:
        """When the next re-flood is due."""
        while self._answer_heap and self._answers.get(self._answer_heap[0][1]) != self._answer_heap[0][0]:
            heapq.heappop(self._answer_heap)
        return self._answer_heap[0][0] if self._answer_heap else None

    def _quiet(self, now: float, periods: int = 1) -> float:
        quiet = self.config.quiet_s * periods
        return now + quiet + self.rng.uniform(0.0, self.config.quiet_s / 2)
