"""Adverts: one Trickle timer per link (RFC 6206) announcing this node's inventory.

The :class:`Adverts` component owns the timers, the page each link sends next, the digest of
what is final here (complete works and takedowns), and the memory of which inconsistencies it
already reacted to. Rules (docs/PROTOCOL.md, "Adverts"): an advert with our digest is
consistent and may suppress ours; a different digest resets the timer to Imin, but only once per
(their digest, our digest) pair per Imax, so a neighbour that can never agree cannot pin us at
Imin; a local change resets every timer. The component also remembers which neighbours served
us verified data we lacked (a new chunk, a decoded coded frame) within the last Imax: only their
unverifiable frames count as data flowing, only their adverts fully suppress ours, and other
neighbours may reset our timer only ``UNPROVEN_RESETS`` times per Imax (issue 17: a neighbour that
never serves can neither silence us nor pin us at Imin).
"""

from __future__ import annotations

import random
from collections import deque

from node.protocol import frames as fr
from node.protocol.bounded import LruMap
from node.protocol.config import EngineConfig
from node.protocol.inventory import advert_page, inventory_digest, inventory_entries
from node.protocol.trickle import TrickleTimer
from node.store.base import WorkStore

REACTION_MEMORY = 64
SERVER_MEMORY = 64  # neighbours recently heard serving verified data
UNPROVEN_RESETS = 3  # timer resets per Imax and link that neighbours not proven may cause


class Adverts:
    """Trickle timers, advert pages and the inventory digest."""

    def __init__(self, config: EngineConfig, store: WorkStore, rng: random.Random, now: float) -> None:
        self._store = store
        names = [link.name for link in config.links]
        self._timers = {n: TrickleTimer(config.trickle_imin_s, config.trickle_doublings, config.trickle_k, rng, now)
                        for n in names}
        self._page = dict.fromkeys(names, 0)
        self._reacted: dict[str, LruMap[tuple[bytes, bytes], float]] = {n: LruMap(REACTION_MEMORY) for n in names}
        self._digest: bytes | None = None
        self._servers: LruMap[str, float] = LruMap(SERVER_MEMORY)
        self._unproven_resets: dict[str, deque[float]] = {n: deque() for n in names}

    def deadline(self) -> float:
        """When the earliest timer has something to do."""
        return min(timer.deadline() for timer in self._timers.values())

    def due(self, now: float) -> list[str]:
        """Advance every timer to ``now``; the links that should advertise now."""
        return [link for link, timer in self._timers.items() if timer.poll(now)]

    def next_advert(self, link: str) -> bytes:
        """The next inventory page for ``link``, encoded."""
        advert = advert_page(inventory_entries(self._store), self.digest(), self._page[link])
        self._page[link] = advert.page + 1
        return fr.encode(advert)

    def digest(self) -> bytes:
        """The digest of complete works and takedowns held here."""
        if self._digest is None:
            complete = [s.work_id for s in self._store.summaries() if s.complete]
            self._digest = inventory_digest(complete, [t.work_id for t in self._store.takedowns()],
                                            [r.key for r in self._store.revocations()])
        return self._digest

    def proven(self, neighbour: str, now: float) -> None:
        """``neighbour`` just served us verified data we lacked: its adverts may suppress ours.

        Only new data proves a neighbour: a copy of what we hold (a replayed chunk, our own
        manifest piece) costs an attacker nothing and proves nothing."""
        self._servers.put(neighbour, now)

    def is_proven(self, neighbour: str, now: float) -> bool:
        """True when ``neighbour`` served verified data within the longest Trickle interval."""
        served = self._servers.get(neighbour)
        return served is not None and now - served <= max(t.imax for t in self._timers.values())

    def heard(self, advert: fr.Advert, link: str, neighbour: str, suspect: bool, now: float) -> None:
        """Trickle's consistency rule for an advert heard on ``link`` from ``neighbour``.

        Our digest counts as consistent, but only a proven neighbour's fully suppresses us (see
        :mod:`node.protocol.trickle`). A ``suspect`` sender (its adverts name works nobody serves)
        never resets our timer; unproven senders reset it at most ``UNPROVEN_RESETS`` times per
        Imax on a link, whatever digests they make up.
        """
        timer = self._timers[link]
        ours = self.digest()
        proven = self.is_proven(neighbour, now)
        if advert.digest == ours:
            timer.hear_consistent(proven)
            return
        if not self._news_for(advert):
            return  # they are ahead of us, not behind: our advert would tell them nothing
        memory = self._reacted[link]
        pair = (advert.digest, ours)
        last = memory.get(pair)
        if suspect or (last is not None and now - last <= timer.imax):
            return
        if not proven:
            resets = self._unproven_resets[link]
            while resets and now - resets[0] > timer.imax:
                resets.popleft()
            if len(resets) >= UNPROVEN_RESETS:
                return
            resets.append(now)
        timer.hear_inconsistent(now)
        memory.put(pair, now)

    def _news_for(self, advert: fr.Advert) -> bool:
        """True unless ``advert`` is a whole inventory (one page) that already lists every work of
        ours with at least our state, and our takedowns and revocations.

        A sender ahead of us learns nothing from our advert; only the one behind needs to hear
        it, and it resets its own timer when it hears the one ahead. During an exhibition nearly
        every digest differs, so reacting both ways kept every node at Imin.
        """
        if advert.pages != 1:
            return True
        theirs = {entry.short_id: entry.state for entry in advert.entries}
        for entry in inventory_entries(self._store):
            state = theirs.get(entry.short_id)
            if state is None:
                return True
            final = entry.state > fr.MAX_CHUNK_STATE  # complete, taken down, revoked
            if (state != entry.state) if final else (state < entry.state):
                return True
        return False

    def inventory_changed(self, now: float) -> None:
        """A work completed, was stored or taken down: new digest, every link advertises soon."""
        self._digest = None
        self.reset(now)

    def reset(self, now: float) -> None:
        """Advertise within Imin on every link (a relay announcing a new partial work)."""
        for timer in self._timers.values():
            timer.reset(now)
