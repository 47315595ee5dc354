"""Per-neighbour bounds on what one neighbour can make this node spend.

Answers are broadcast, so one neighbour's requests could otherwise buy any amount of this node's
airtime: asking for "everything" again and again made a holder re-send a whole work for ever
(docs/reliability-fuzz-hostile.md, issue A). :class:`AnswerCredits` gives every (requester,
work) pair a budget of answer frames, a few passes over the work, refilled slowly. A frame that
serves k requesters costs each of them 1/k, so honest neighbours that lose the same frames share
the cost, and the budget only runs out for a requester that keeps asking for what it was sent.

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
    """Answer-frame budgets per (requester, short id), LRU-bounded.

    A requester starts with ``rounds`` passes over the work (``rounds`` × chunk count frames)
    and regains one pass per ``refill_s`` seconds.
    """

    def __init__(self, rounds: float, refill_s: float, max_entries: int) -> None:
        self.rounds = rounds
        self.refill_s = refill_s
        self.max_entries = max_entries
        self._credits: LruMap[tuple[str, bytes], Credit] = LruMap(max_entries)

    def _credit(self, requester: str, short_id: bytes, chunk_count: int, now: float) -> Credit:
        key = (requester, short_id)
        credit = self._credits.touch(key)
        if credit is None:
            credit = Credit(self.rounds * chunk_count, chunk_count / self.refill_s, now)
            self._credits.put(key, credit)
        return credit

    def forget_work(self, short_id: bytes) -> None:
        """Drop every requester's budget for one work (taken down or rejected)."""
        self._credits.discard_where(lambda key: key[1] == short_id)

    def allows(self, requester: str, short_id: bytes, chunk_count: int, now: float) -> bool:
        """True while the requester may still be owed answers for this work (at least one frame)."""
        return self._credit(requester, short_id, chunk_count, now).balance(now) >= 1.0

    def charge(self, requesters: list[str], short_id: bytes, chunk_count: int, now: float) -> list[str]:
        """One frame went out serving ``requesters``: each pays 1/k. Returns those now out of credit."""
        if not requesters:
            return []
        share = 1.0 / len(requesters)
        broke = []
        for requester in requesters:
            credit = self._credit(requester, short_id, chunk_count, now)
            credit.spend(share, now)
            if credit.tokens < 1.0:
                broke.append(requester)
        return broke

    def __len__(self) -> int:
        return len(self._credits)


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
