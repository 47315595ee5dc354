"""Bounded receive-side state: works this node wants, and manifests being reassembled.

Both tables are keyed by 4-byte short ids heard on the air, i.e. by anything a neighbour cares
to send, so both are capped globally and per neighbour, and evict the oldest unverified
entries first. Iteration is over insertion-ordered dicts, never over sets of bytes.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

from node.protocol.frames import MANIFEST_PIECE_MAX, ManifestPiece


@dataclass
class Want:
    """A work this node lacks (fully or partly) and is fetching."""

    short_id: bytes
    neighbour: str  # who first made us want it; unverified wants count against them
    created: float
    next_request: float = math.inf
    attempts: int = 0
    work_id: bytes | None = None  # set once the manifest is verified
    links: dict[str, float] = field(default_factory=dict)  # link -> last time a source was heard

    @property
    def verified(self) -> bool:
        """True once the manifest has been verified and stored."""
        return self.work_id is not None


class WantTable:
    """The works being fetched, bounded globally and per neighbour (unverified ones)."""

    def __init__(self, max_total: int, max_per_neighbour: int) -> None:
        self.max_total = max_total
        self.max_per_neighbour = max_per_neighbour
        self._wants: dict[bytes, Want] = {}

    def __len__(self) -> int:
        return len(self._wants)

    def get(self, short_id: bytes) -> Want | None:
        """The want for ``short_id``, if any."""
        return self._wants.get(short_id)

    def all(self) -> list[Want]:
        """All wants in creation order."""
        return list(self._wants.values())

    def remove(self, short_id: bytes) -> None:
        """Stop wanting a work."""
        self._wants.pop(short_id, None)

    def add(self, short_id: bytes, neighbour: str, now: float, *, verified_id: bytes | None = None,
            per_neighbour: int | None = None) -> Want | None:
        """Create a want, evicting unverified ones to make room; None when the cap refuses it.

        ``per_neighbour`` lowers the neighbour's cap of unverified wants (a suspect advertiser).
        """
        existing = self._wants.get(short_id)
        if existing is not None:
            return existing
        if verified_id is None:
            mine = [w for w in self._wants.values() if not w.verified and w.neighbour == neighbour]
            cap = self.max_per_neighbour if per_neighbour is None else min(per_neighbour, self.max_per_neighbour)
            if len(mine) >= cap:
                return None
        if len(self._wants) >= self.max_total and not self._evict_one(protect=neighbour):
            return None
        want = Want(short_id, neighbour, now, work_id=verified_id)
        self._wants[short_id] = want
        return want

    def _evict_one(self, protect: str) -> bool:
        """Drop the oldest unverified want of the neighbour holding the most of them."""
        counts: dict[str, int] = {}
        for w in self._wants.values():
            if not w.verified:
                counts[w.neighbour] = counts.get(w.neighbour, 0) + 1
        if not counts:
            return False
        heaviest = max(sorted(counts), key=lambda n: counts[n])
        if heaviest == protect and counts[heaviest] <= 1:
            return False
        victim = next(w for w in self._wants.values() if not w.verified and w.neighbour == heaviest)
        del self._wants[victim.short_id]
        return True


@dataclass
class Assembly:
    """A manifest arriving piece by piece."""

    short_id: bytes
    total_len: int
    neighbour: str
    pieces: dict[int, bytes] = field(default_factory=dict)

    @property
    def piece_count(self) -> int:
        """How many pieces the manifest has."""
        return ManifestPiece.piece_count(self.total_len)

    def missing(self) -> list[int]:
        """Indices of pieces not yet received."""
        return [i for i in range(self.piece_count) if i not in self.pieces]

    def add(self, index: int, data: bytes) -> bool:
        """Store a piece; True if it was new."""
        if index in self.pieces:
            return False
        self.pieces[index] = data
        return True

    def assembled(self) -> bytes | None:
        """The whole manifest once every piece is in."""
        if len(self.pieces) < self.piece_count:
            return None
        return b"".join(self.pieces[i] for i in range(self.piece_count))


def manifest_piece(raw: bytes, short_id: bytes, index: int) -> ManifestPiece | None:
    """Piece ``index`` of a stored manifest, or None when out of range."""
    start = index * MANIFEST_PIECE_MAX
    if not 0 <= start < len(raw):
        return None
    return ManifestPiece(short_id, index, len(raw), raw[start : start + MANIFEST_PIECE_MAX])


class AssemblyTable:
    """Partial manifests, LRU-evicted, at most ``per_neighbour`` started by any one neighbour."""

    def __init__(self, max_total: int, per_neighbour: int = 2) -> None:
        self.max_total = max_total
        self.per_neighbour = per_neighbour
        self._items: OrderedDict[tuple[bytes, int], Assembly] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def find(self, short_id: bytes) -> Assembly | None:
        """The most recently used assembly for ``short_id``."""
        for key in reversed(self._items):
            if key[0] == short_id:
                return self._items[key]
        return None

    def get_or_create(self, short_id: bytes, total_len: int, neighbour: str) -> Assembly:
        """The assembly for (short id, length), created (and others evicted) if needed."""
        key = (short_id, total_len)
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
            return item
        theirs = [k for k, a in self._items.items() if a.neighbour == neighbour]
        if len(theirs) >= self.per_neighbour:
            del self._items[theirs[0]]
        while len(self._items) >= self.max_total:
            self._items.popitem(last=False)
        item = Assembly(short_id, total_len, neighbour)
        self._items[key] = item
        return item

    def discard(self, short_id: bytes) -> None:
        """Forget every assembly of ``short_id``."""
        for key in [k for k in self._items if k[0] == short_id]:
            del self._items[key]

    def buffered_bytes(self) -> int:
        """Bytes held in partial manifests."""
        return sum(len(p) for a in self._items.values() for p in a.pieces.values())


class EarlyChunks:
    """Chunks overheard for a wanted work before its manifest is verified, LRU-bounded in bytes.

    On a broadcast channel a node often hears a work's data while still missing a manifest
    piece; keeping those chunks (unverified, never stored or sent on) saves resending them.
    They are checked against the manifest the moment it verifies, and junk is discarded.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._chunks: OrderedDict[tuple[bytes, int], bytes] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def buffered_bytes(self) -> int:
        """Bytes held."""
        return self._bytes

    def add(self, short_id: bytes, index: int, data: bytes) -> bool:
        """Keep a chunk (evicting the oldest to make room); False if already held."""
        key = (short_id, index)
        if key in self._chunks or len(data) > self.max_bytes:
            return False
        while self._bytes + len(data) > self.max_bytes:
            _, old = self._chunks.popitem(last=False)
            self._bytes -= len(old)
        self._chunks[key] = data
        self._bytes += len(data)
        return True

    def take(self, short_id: bytes) -> list[tuple[int, bytes]]:
        """Remove and return the chunks of one work, by index."""
        keys = sorted(k for k in self._chunks if k[0] == short_id)
        out = []
        for key in keys:
            data = self._chunks.pop(key)
            self._bytes -= len(data)
            out.append((key[1], data))
        return out
