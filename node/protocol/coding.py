"""Coded repair: XOR combinations of chunks (a random linear code over GF(2)) and their decoder.

A CODED frame carries a 16-bit *seed* and the XOR of the chunks it names; the set of chunks is
derived from (short id, seed, chunk count) by :func:`coded_indices`, so the frame needs no index
list. A receiver that misses h chunks subtracts the ones it holds and keeps the rest as one
equation in its unknowns; any h independent equations decode every hole, whichever frames each
receiver happened to lose. One coded frame therefore fills a different hole at every receiver.

Chunk sets and payloads are Python ints (bit i = chunk i; payload = big-endian chunk bytes,
zero-padded to ``CHUNK_SIZE``), so elimination is plain integer XOR. Decoded chunks are NOT
trusted here: the engine verifies each against the manifest before storing it.
"""

from __future__ import annotations

import hashlib

from node.artwork.chunks import CHUNK_SIZE

CODED_DOMAIN = b"mesh-art/coded/v1"


def coded_indices(short_id: bytes, seed: int, chunk_count: int) -> int:
    """The chunk set of a coded frame as a bit mask: chunk i is in it iff bit i of the stream is 1.

    Stream: SHA-256(domain ‖ short id ‖ seed u16 ‖ block u16) for block = 0, 1, ...
    concatenated; bit i is bit (i mod 8), least significant first, of byte i // 8.
    """
    need = (chunk_count + 7) // 8
    stream = bytearray()
    block = 0
    prefix = CODED_DOMAIN + short_id + seed.to_bytes(2, "big")
    while len(stream) < need:
        stream += hashlib.sha256(prefix + block.to_bytes(2, "big")).digest()
        block += 1
    return int.from_bytes(stream[:need], "little") & ((1 << chunk_count) - 1)


def chunk_int(data: bytes) -> int:
    """A chunk as an int, zero-padded to the full chunk size."""
    return int.from_bytes(data.ljust(CHUNK_SIZE, b"\0"), "big")


def int_chunk(value: int) -> bytes:
    """The padded chunk bytes of an int payload."""
    return value.to_bytes(CHUNK_SIZE, "big")


def bits(mask: int) -> list[int]:
    """The set bits of ``mask``, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Decoder:
    """Coded equations for one work, kept in reduced row-echelon form over GF(2).

    Each row is (mask of unknown chunks, XOR of those chunks); its pivot is its lowest bit and
    no other row contains that bit. A row whose mask is a single bit is a decoded chunk.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._rows: dict[int, tuple[int, int]] = {}  # pivot -> (mask, payload)

    def __len__(self) -> int:
        return len(self._rows)

    def pivots(self) -> list[int]:
        """Chunks that need no request: knowing every other unknown decodes them."""
        return sorted(self._rows)

    def add(self, mask: int, payload: int) -> list[tuple[int, int]] | None:
        """Add an equation over unknown chunks; the (index, payload) pairs it decodes.

        Returns None when the buffer is full and the equation would have been new.
        """
        for pivot in sorted(self._rows):
            if mask >> pivot & 1:
                row_mask, row_payload = self._rows[pivot]
                mask ^= row_mask
                payload ^= row_payload
        if not mask:
            return []  # nothing new: a combination of what we already have
        if len(self._rows) >= self.max_rows:
            return None
        pivot = (mask & -mask).bit_length() - 1
        for other in list(self._rows):
            row_mask, row_payload = self._rows[other]
            if row_mask >> pivot & 1:
                self._rows[other] = (row_mask ^ mask, row_payload ^ payload)
        self._rows[pivot] = (mask, payload)
        return self._take_decoded()

    def learn(self, index: int, payload: int) -> list[tuple[int, int]]:
        """Chunk ``index`` became known (stored): substitute it; the chunks that decodes."""
        touched = [p for p in sorted(self._rows) if self._rows[p][0] >> index & 1]
        rows = [self._rows.pop(p) for p in touched]
        decoded: list[tuple[int, int]] = []
        for row_mask, row_payload in rows:
            out = self.add(row_mask & ~(1 << index), row_payload ^ payload)
            decoded += out or []
        return decoded

    def _take_decoded(self) -> list[tuple[int, int]]:
        done = [p for p, (m, _) in self._rows.items() if m == 1 << p]
        return [(p, self._rows.pop(p)[1]) for p in sorted(done)]
