"""Takedowns: verified curator takedowns this node knows, and spreading them.

The :class:`Takedowns` component owns the takedowns by short id and the memory of when it last
offered one on a link or asked a neighbour for one. A new takedown goes out
``takedown_repeats`` times ``takedown_spacing_s`` apart on every link; an advert offering a
taken-down work gets the takedown back (at most once per spacing per work and link, and at most
``TAKEDOWN_OFFERS_PER_WINDOW`` per spacing per link, so an advert listing 37 taken-down works
brings back 3 frames, not 37); an advert naming a takedown we lack gets a takedown request (at
most ``TAKEDOWN_ASKS_PER_WINDOW`` per spacing).
"""

from __future__ import annotations

import random

from node.artwork.takedown import Takedown
from node.protocol import frames as fr
from node.protocol.bounded import LruMap
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.outbox import PRIO_REQUEST, PRIO_TAKEDOWN, LinkOutbox

TAKEDOWN_ASKS_PER_WINDOW = 4
TAKEDOWN_OFFERS_PER_WINDOW = 3  # per link: one advert naming many taken-down works is no amplifier
OFFER_MEMORY = 256
ASK_MEMORY = 64


class Takedowns:
    """Known takedowns and their spreading."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                 rng: random.Random, known: list[Takedown]) -> None:
        self._config = config
        self._links = links
        self._outboxes = outboxes
        self._rng = rng
        self._by_short: dict[bytes, Takedown] = {t.work_id[:4]: t for t in known}
        self._offered: LruMap[tuple[bytes, str], float] = LruMap(OFFER_MEMORY)
        self._asked: LruMap[bytes, float] = LruMap(ASK_MEMORY)

    def __len__(self) -> int:
        return len(self._by_short)

    def get(self, short_id: bytes) -> Takedown | None:
        """The takedown of a short id, if known."""
        return self._by_short.get(short_id)

    def _jitter(self, link: str) -> float:
        return self._rng.uniform(*self._config.serve_jitter_slots) * self._links[link].slot_s

    def spread(self, takedown: Takedown, now: float) -> None:
        """Record a new takedown and queue its repeats on every link."""
        short = takedown.work_id[:4]
        self._by_short[short] = takedown
        data = fr.encode(fr.TakedownFrame(takedown.to_bytes()))
        for name, outbox in self._outboxes.items():
            outbox.cancel_where(lambda tag: isinstance(tag, tuple) and short in tag)
            for repeat in range(self._config.takedown_repeats):
                start = now + repeat * self._config.takedown_spacing_s
                outbox.put(("td", short, repeat), data, PRIO_TAKEDOWN, start + self._jitter(name))

    def offer(self, takedown: Takedown, link: str, now: float) -> None:
        """Someone offers or asks for a work we know is taken down: tell them (rate-limited)."""
        key = (takedown.work_id[:4], link)
        window = self._config.takedown_spacing_s
        last = self._offered.get(key)
        if last is not None and now - last < window:
            return
        recent = sum(1 for (_, on), t in self._offered.items() if on == link and now - t < window)
        if recent >= TAKEDOWN_OFFERS_PER_WINDOW:
            return
        self._offered.put(key, now)
        self._outboxes[link].put(("td-offer", key[0]), fr.encode(fr.TakedownFrame(takedown.to_bytes())),
                                 PRIO_TAKEDOWN, now + self._jitter(link))

    def heard_again(self, short_id: bytes, link: str) -> None:
        """Someone else just sent this takedown on ``link``: our offer is not needed."""
        self._outboxes[link].cancel(("td-offer", short_id))

    def ask(self, short: bytes, link: str, now: float) -> None:
        """A neighbour advertises a takedown we lack: ask for it (rate-limited)."""
        window = self._config.takedown_spacing_s
        recent = [t for t in self._asked.values() if now - t < window]
        last = self._asked.get(short)
        if (last is not None and now - last < window) or len(recent) >= TAKEDOWN_ASKS_PER_WINDOW:
            return
        self._asked.put(short, now)
        request = fr.Request(short, fr.TARGET_TAKEDOWN, 0, b"")
        delay = self._rng.uniform(*self._config.request_delay_slots) * self._links[link].slot_s
        self._outboxes[link].put(("td-req", short), fr.encode(request), PRIO_REQUEST, now + delay)
