"""Curator orders: verified takedowns and revocations this node knows, and spreading them.

One :class:`CuratorOrders` per kind of order (:func:`takedowns`, :func:`revocations`) owns the
orders by short id (a takedown's work id, a revocation's revoked key, first 4 bytes) and the
memory of when it last offered one on a link or asked a neighbour for one. A new order goes out
``takedown_repeats`` times ``takedown_spacing_s`` apart on every link; an advert offering a
taken-down work, or a request naming an order, gets the order back (at most once per spacing
per order and link, and at most ``OFFERS_PER_WINDOW`` per spacing per link, so an advert
listing 37 taken-down works brings back 3 frames, not 37); an advert naming an order we lack
gets a request (at most ``ASKS_PER_WINDOW`` per spacing).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Generic, TypeVar

from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.protocol import frames as fr
from node.protocol.bounded import LruMap
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.outbox import PRIO_REQUEST, PRIO_TAKEDOWN, LinkOutbox

ASKS_PER_WINDOW = 4
OFFERS_PER_WINDOW = 3  # per link: one advert naming many taken-down works is no amplifier
OFFER_MEMORY = 256
ASK_MEMORY = 64

Order = TypeVar("Order", Takedown, Revocation)


class CuratorOrders(Generic[Order]):
    """Known orders of one kind and their spreading."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                 rng: random.Random, known: list[Order], *, tag: str, target: int,
                 short_of: Callable[[Order], bytes], frame_of: Callable[[Order], bytes]) -> None:
        self._config = config
        self._links = links
        self._outboxes = outboxes
        self._rng = rng
        self.tag = tag
        self._target = target
        self._short_of: Callable[[Order], bytes] = short_of
        self._frame_of: Callable[[Order], bytes] = frame_of
        self._by_short: dict[bytes, Order] = {short_of(o): o for o in known}
        self._offered: LruMap[tuple[bytes, str], float] = LruMap(OFFER_MEMORY)
        self._asked: LruMap[bytes, float] = LruMap(ASK_MEMORY)

    def __len__(self) -> int:
        return len(self._by_short)

    def get(self, short_id: bytes) -> Order | None:
        """The order of a short id, if known."""
        return self._by_short.get(short_id)

    def _jitter(self, link: str) -> float:
        return self._rng.uniform(*self._config.serve_jitter_slots) * self._links[link].slot_s

    def spread(self, order: Order, now: float, cancel: Callable[[object], bool] | None = None) -> None:
        """Record a new order and queue its repeats on every link (first cancelling the queued
        control frames ``cancel`` matches)."""
        short = self._short_of(order)
        self._by_short[short] = order
        data = self._frame_of(order)
        for name, outbox in self._outboxes.items():
            if cancel is not None:
                outbox.cancel_where(cancel)
            for repeat in range(self._config.takedown_repeats):
                start = now + repeat * self._config.takedown_spacing_s
                outbox.put((self.tag, short, repeat), data, PRIO_TAKEDOWN, start + self._jitter(name))

    def offer(self, order: Order, link: str, now: float) -> None:
        """Someone offers or asks for what an order covers: tell them (rate-limited)."""
        key = (self._short_of(order), link)
        window = self._config.takedown_spacing_s
        last = self._offered.get(key)
        if last is not None and now - last < window:
            return
        recent = sum(1 for (_, on), t in self._offered.items() if on == link and now - t < window)
        if recent >= OFFERS_PER_WINDOW:
            return
        self._offered.put(key, now)
        self._outboxes[link].put((f"{self.tag}-offer", key[0]), self._frame_of(order), PRIO_TAKEDOWN,
                                 now + self._jitter(link))

    def heard_again(self, short_id: bytes, link: str) -> None:
        """Someone else just sent this order on ``link``: our offer is not needed."""
        self._outboxes[link].cancel((f"{self.tag}-offer", short_id))

    def ask(self, short: bytes, link: str, now: float) -> None:
        """A neighbour advertises an order we lack: ask for it (rate-limited)."""
        window = self._config.takedown_spacing_s
        recent = [t for t in self._asked.values() if now - t < window]
        last = self._asked.get(short)
        if (last is not None and now - last < window) or len(recent) >= ASKS_PER_WINDOW:
            return
        self._asked.put(short, now)
        request = fr.Request(short, self._target, 0, b"")
        delay = self._rng.uniform(*self._config.request_delay_slots) * self._links[link].slot_s
        self._outboxes[link].put((f"{self.tag}-req", short), fr.encode(request), PRIO_REQUEST, now + delay)

    def requeue_request(self, data: bytes, short: bytes, link: str, now: float) -> None:
        """The radio refused our request for an order: queue it again."""
        self._outboxes[link].put((f"{self.tag}-req", short), data, PRIO_REQUEST, now)

    def requeue(self, data: bytes, link: str, now: float) -> None:
        """The radio refused an order frame: queue it again."""
        self._outboxes[link].put((f"{self.tag}-refused", data), data, PRIO_TAKEDOWN, now)


def takedowns(config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
              rng: random.Random, known: list[Takedown]) -> CuratorOrders[Takedown]:
    """The takedowns component: orders by the work's short id, frames of kind TAKEDOWN."""
    return CuratorOrders(config, links, outboxes, rng, known, tag="td", target=fr.TARGET_TAKEDOWN,
                         short_of=lambda t: t.work_id[:4],
                         frame_of=lambda t: fr.encode(fr.TakedownFrame(t.to_bytes())))


def revocations(config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                rng: random.Random, known: list[Revocation]) -> CuratorOrders[Revocation]:
    """The revocations component: orders by the revoked key's first 4 bytes, frames of kind REVOCATION."""
    return CuratorOrders(config, links, outboxes, rng, known, tag="rv", target=fr.TARGET_REVOCATION,
                         short_of=lambda r: r.short_id,
                         frame_of=lambda r: fr.encode(fr.RevocationFrame(r.to_bytes())))
