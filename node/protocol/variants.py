"""Manifest pieces by content: every distinct piece heard for an index, so a forged one cannot win.

A MANIFEST piece carries only the 4-byte short id, so anyone can send a piece of the right
length with made-up bytes. An assembly that keeps the first piece per index could be poisoned by
one forged frame sent before the genuine one, and evicted by forged lengths. The
:class:`PieceVariants` component keeps up to ``VARIANTS_PER_INDEX`` distinct pieces per
(short id, manifest length, index), the most recently heard first, outside the assemblies; the
engine assembles from them the combination whose SHA-256 starts with the short id and was not
rejected before, trying the pieces of the neighbour we asked first. Honest holders resend the
genuine piece on every request, so it stays in. Pieces count as the manifest arriving (which
holds our own request back) only while their supplier is not known to forge: one that sent a
piece differing from the genuine manifest, or sent alone a whole manifest that did not
assemble. A forger cannot keep us quiet by streaming pieces.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from node.protocol.bounded import LruMap
from node.protocol.frames import MANIFEST_PIECE_MAX, ManifestPiece

VARIANTS_PER_INDEX = 4  # suppliers remembered per index (the latest piece of each)
MAX_COMBINATIONS = 256  # hashes tried per arrival at most (each over one manifest of <= 16 KiB)
MAX_KEYS = 512  # (short id, length, index) triples remembered
SUSPECT_MEMORY = 64  # suppliers known to forge manifest pieces

Key = tuple[bytes, int, int]


class PieceVariants:
    """Distinct manifest pieces heard, by supplier, bounded, for assembling past forged ones."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self._pieces: LruMap[Key, dict[str, bytes]] = LruMap(max_keys)
        self._suspects: LruMap[str, float] = LruMap(SUSPECT_MEMORY)

    def note(self, short_id: bytes, total_len: int, index: int, data: bytes, supplier: str) -> bool:
        """Remember ``supplier``'s piece; True when these bytes are new for that index."""
        key = (short_id, total_len, index)
        known = self._pieces.touch(key) or {}
        fresh = data not in known.values()
        known.pop(supplier, None)
        known[supplier] = data
        while len(known) > VARIANTS_PER_INDEX:
            del known[next(iter(known))]  # the supplier heard least recently
        self._pieces.put(key, known)
        return fresh

    def resolve(self, short_id: bytes, total_len: int, fits: Callable[[bytes], bool],
                prefer: str | None = None) -> bytes | None:
        """The manifest assembled from the pieces heard that ``fits`` (``prefer``'s pieces first,
        then the most recently heard), or None while an index has none or no combination within
        ``MAX_COMBINATIONS`` fits."""
        options: list[list[bytes]] = []
        for index in range(ManifestPiece.piece_count(total_len)):
            known = self._pieces.get((short_id, total_len, index))
            if not known:
                return None
            suppliers = sorted(reversed(known), key=lambda s: s != prefer)
            options.append(list(dict.fromkeys(known[s] for s in suppliers)))
        for combination in itertools.islice(itertools.product(*options), MAX_COMBINATIONS):
            raw = b"".join(combination)
            if len(raw) == total_len and fits(raw):
                return raw
        return None

    def _known(self, short_id: bytes, total_len: int) -> list[dict[str, bytes]]:
        return [self._pieces.get((short_id, total_len, i)) or {} for i in range(ManifestPiece.piece_count(total_len))]

    def failed(self, short_id: bytes, total_len: int, pieces: dict[int, bytes], now: float) -> dict[int, bytes]:
        """Every index is in and no combination is the work: the suppliers of ``pieces`` (the
        assembly that failed) are suspect until the genuine manifest assembles (one of them forges),
        and their pieces stop counting as the manifest arriving. Returns the pieces worth keeping:
        those two suppliers or more agree on, or the one piece no supplier suspect before sent."""
        known = self._known(short_id, total_len)
        keep: dict[int, bytes] = {}
        for index, k in enumerate(known):
            votes = list(k.values())
            trusted = [d for s, d in k.items() if s not in self._suspects]
            agreed = max(votes, key=votes.count, default=None)
            if agreed is not None and votes.count(agreed) >= 2:
                keep[index] = agreed
            elif len(set(trusted)) == 1:
                keep[index] = trusted[0]
        for index, k in enumerate(known):  # one of them forges; cleared when the genuine one assembles
            for supplier, data in k.items():
                if data == pieces.get(index):
                    self._suspects.put(supplier, now)
        return keep

    def assembled(self, short_id: bytes, raw: bytes, now: float) -> list[str]:
        """``raw`` is the genuine manifest: every supplier that sent a different piece forges; the
        others are cleared of suspicion and returned (they served us verified data)."""
        good: set[str] = set()
        bad: set[str] = set()
        for index, known in enumerate(self._known(short_id, len(raw))):
            genuine = raw[index * MANIFEST_PIECE_MAX : (index + 1) * MANIFEST_PIECE_MAX]
            for supplier, data in known.items():
                (good if data == genuine else bad).add(supplier)
        for supplier in sorted(bad):
            self._suspects.put(supplier, now)
        honest = sorted(good - bad)
        for supplier in honest:
            self._suspects.pop(supplier)
        return honest

    def suspect(self, supplier: str) -> bool:
        """True when ``supplier`` is known to forge manifest pieces."""
        return supplier in self._suspects

    def forget(self, short_id: bytes) -> None:
        """Every piece of a short id goes (its manifest is stored, or the work taken down)."""
        self._pieces.discard_where(lambda key: key[0] == short_id)

    def __len__(self) -> int:
        return len(self._pieces)
