"""Per-neighbour bounds on what one neighbour can make this node spend.

Answers are broadcast, so one neighbour's requests could otherwise buy any amount of this node's
airtime: asking for "everything" again and again made a holder re-send a whole work for ever
(docs/reliability-fuzz-hostile.md, issue A), and asking for all of eight old works kept a new
one waiting for hours (issue 17 item 4). :class:`AnswerCredits` gives every requester identity
an airtime budget across all works and manifest pieces, a share of the link's hourly budget,
refilled slowly; the server orders its answers by what each requester has used (round-robin).
A frame that serves k requesters costs each of them 1/k, so honest neighbours that lose the same
frames share the cost, and the budget only runs out for a requester that keeps asking.

Adverts are cheap to lie in: a neighbour naming made-up works made every listener want them and
ask for each several times (issue B). :class:`AdvertiserScores` counts, per neighbour, the
works it advertised that nobody ever served; the engine lets a neighbour with a bad score create
fewer wants, asks for them fewer times and later. A work it advertised that turns out real
halves the score.
"""

from __future__ import annotations

from node.protocol.bounded import LruMap


class Credit:
    """A refilling balance (tokens) that may be spent down to zero in fractions."""

    def __init__(self, burst: float, rate: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = burst
        self.stamp = now

    def balance(self, now: float) -> float:
        """Tokens available at ``now``."""
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return self.tokens

    def spend(self, cost: float, now: float) -> None:
        """Take ``cost`` tokens (not below zero)."""
        self.tokens = max(0.0, self.balance(now) - cost)


class AnswerCredits:
    """Answer airtime budgets per requester identity on one link, across all works, LRU-bounded.

    A requester bound to a signed beacon key (``identity`` not None) has ``share`` of the link's
    hourly budget, refilled over ``refill_s``; one that is not bound yet (a radio id anyone can
    vary) has ``unbound_share`` of its own and also draws on one pool of ``share`` that every
    unbound requester shares, so new radio ids buy nothing more. A frame serving k requesters
    costs each 1/k of its airtime.
    """

    POOL = ("pool",)

    def __init__(self, budget_s: float, share: float, unbound_share: float, refill_s: float,
                 max_entries: int) -> None:
        self.budget_s = budget_s
        self.share = share
        self.unbound_share = unbound_share
        self.refill_s = refill_s
        self.max_entries = max_entries
        self._credits: LruMap[tuple[str, ...], Credit] = LruMap(max_entries)
        self._pool: Credit | None = None

    def _credit(self, key: tuple[str, ...], share: float, now: float) -> Credit:
        if key == self.POOL:
            if self._pool is None:
                self._pool = Credit(self.budget_s * share, self.budget_s * share / self.refill_s, now)
            return self._pool
        credit = self._credits.touch(key)
        if credit is None:
            credit = Credit(self.budget_s * share, self.budget_s * share / self.refill_s, now)
            self._credits.put(key, credit)
        return credit

    def _accounts(self, requester: str, identity: str | None, now: float) -> list[Credit]:
        if identity is not None:
            return [self._credit(("key", identity), self.share, now)]
        return [self._credit(("radio", requester), self.unbound_share, now), self._credit(self.POOL, self.share, now)]

    def allows(self, requester: str, identity: str | None, cost_s: float, now: float) -> bool:
        """True while the requester may still be owed a frame of ``cost_s`` seconds."""
        return all(c.balance(now) >= cost_s for c in self._accounts(requester, identity, now))

    def spent(self, requester: str, identity: str | None, now: float) -> float:
        """Seconds of its own budget the requester has used and not yet regained."""
        credit = self._accounts(requester, identity, now)[0]
        return credit.burst - credit.balance(now)

    def charge(self, requesters: list[tuple[str, str | None]], cost_s: float, now: float,
               next_cost_s: float, factors: list[float] | None = None) -> list[str]:
        """A frame of ``cost_s`` went out serving ``requesters`` (requester, identity): each pays
        1/k, times its entry in ``factors`` if given. Returns those that can no longer afford a
        frame of ``next_cost_s``."""
        if not requesters:
            return []
        share = cost_s / len(requesters)
        broke = []
        for n, (requester, identity) in enumerate(requesters):
            factor = 1.0 if factors is None else factors[n]
            for credit in self._accounts(requester, identity, now):
                credit.spend(share * factor, now)
            if not self.allows(requester, identity, next_cost_s, now):
                broke.append(requester)
        return broke

    def __len__(self) -> int:
        return len(self._credits)


class ManifestUse:
    """Per requester account: the whole manifests sent to it lately that it never used.

    A node that verified a manifest goes on to ask for the work's chunks; one that cannot (or will
    not) verify it can ask for manifests for ever, and every holder in range re-sends them (issue
    17, the forger). A manifest sent in full while the account was owed it counts as unused until
    the account asks for that work's chunks or advertises the work; beyond ``slack`` unused ones
    within ``window_s``, each quadruples what manifest pieces cost the account's budget, up to
    ``max_factor`` (a geometric
    price lets a budget of B buy only log4(B / manifest) unused manifests per holder). Sending the
    same manifest again counts again. An honest requester asks for the chunks as soon as the
    manifest verifies, so it pays the normal price for all but the manifests still in flight.
    """

    def __init__(self, window_s: float, slack: int, max_factor: float, max_accounts: int,
                 max_works: int = 64) -> None:
        self.window_s = window_s
        self.slack = slack
        self.max_factor = max_factor
        self.max_works = max_works
        self._unused: LruMap[str, dict[bytes, tuple[int, float]]] = LruMap(max_accounts)

    @staticmethod
    def account(requester: str, identity: str | None) -> str:
        """The budget account a requester is known by: its beacon key if bound, else its radio id."""
        return f"key:{identity}" if identity is not None else f"radio:{requester}"

    def _live(self, account: str, now: float) -> dict[bytes, tuple[int, float]]:
        works = self._unused.get(account) or {}
        for short in [s for s, (_, at) in works.items() if now - at > self.window_s]:
            del works[short]
        return works

    def factor(self, account: str, now: float) -> float:
        """What a manifest piece costs this account now, as a multiple of its airtime."""
        unused = sum(count for count, _ in self._live(account, now).values())
        return min(self.max_factor, 4.0 ** max(0, unused - self.slack))

    def sent(self, account: str, short_id: bytes, now: float) -> None:
        """The whole manifest of ``short_id`` just went out while ``account`` was owed it."""
        works = self._live(account, now)
        count = works.pop(short_id, (0, now))[0]
        works[short_id] = (count + 1, now)
        while len(works) > self.max_works:
            del works[next(iter(works))]
        self._unused.put(account, works)

    def used(self, account: str, short_id: bytes) -> None:
        """``account`` asked for chunks of ``short_id``: the manifests it had of it were of use."""
        works = self._unused.get(account)
        if works is not None:
            works.pop(short_id, None)

    def __len__(self) -> int:
        return len(self._unused)


class AdvertiserScores:
    """Per neighbour: how many works it advertised that nobody served ("unserved" score)."""

    def __init__(self, max_neighbours: int) -> None:
        self.max_neighbours = max_neighbours
        self._scores: LruMap[str, int] = LruMap(max_neighbours)

    def score(self, neighbour: str) -> int:
        """The neighbour's current score (0: no unserved adverts)."""
        return self._scores.get(neighbour) or 0

    def unserved(self, neighbour: str) -> None:
        """A work this neighbour advertised was never served: count it."""
        self._scores.put(neighbour, self.score(neighbour) + 1)

    def served(self, neighbour: str) -> None:
        """A work this neighbour advertised turned out real: halve its score."""
        halved = self.score(neighbour) // 2
        if halved:
            self._scores.put(neighbour, halved)
        else:
            self._scores.pop(neighbour)

    def __len__(self) -> int:
        return len(self._scores)
