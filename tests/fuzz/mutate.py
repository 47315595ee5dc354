"""A small seeded mutation fuzzer: one ``random.Random`` turns corpus entries into hostile inputs.

Mutations are the classic dumb-fuzzer set: bit flips, byte overwrites with boundary values,
byte insertions and deletions, truncation, duplication of a slice, splices of two corpus
entries, and big-endian boundary integers (u8/u16/u32) written at random offsets. Because the
frame and bundle layouts are fixed big-endian headers, the integer overwrites reach the length,
index and count fields that a bit flip rarely turns into an edge value.

One seed gives one input sequence, so a crash is reproduced by its seed and input number.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator, Sequence

BOUNDARY_U8 = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
BOUNDARY_U16 = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFD, 0xFFFE, 0xFFFF)
BOUNDARY_U32 = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF, 0x10000, 0x4000, 0x40000)


class Mutator:
    """Mutates byte strings; ``max_len`` bounds every output (inputs longer than it are cut)."""

    def __init__(self, rng: random.Random, corpus: Sequence[bytes], max_len: int) -> None:
        if not corpus:
            raise ValueError("the mutator needs at least one corpus entry")
        self.rng = rng
        self.corpus = list(corpus)
        self.max_len = max_len
        self._ops: list[Callable[[bytearray], None]] = [
            self._flip_bit, self._flip_bit, self._set_byte, self._insert, self._delete, self._truncate,
            self._duplicate, self._splice, self._int16, self._int32, self._random_run,
        ]

    def mutate(self, data: bytes) -> bytes:
        """One to four stacked mutations of ``data``."""
        buf = bytearray(data)
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3, 4))):
            self.rng.choice(self._ops)(buf)
        return bytes(buf[: self.max_len])

    def next_input(self) -> bytes:
        """A mutated corpus entry (or, rarely, pure random bytes)."""
        if self.rng.random() < 0.02:
            return self.rng.randbytes(self.rng.randrange(0, self.max_len + 1))
        return self.mutate(self.rng.choice(self.corpus))

    def stream(self, count: int) -> Iterator[bytes]:
        """``count`` inputs."""
        for _ in range(count):
            yield self.next_input()

    # ---- the operations (each edits the buffer in place) ---------------------------------------

    def _pos(self, buf: bytearray, end: int = 0) -> int:
        return self.rng.randrange(len(buf) + end) if len(buf) + end > 0 else 0

    def _flip_bit(self, buf: bytearray) -> None:
        if buf:
            i = self._pos(buf)
            buf[i] ^= 1 << self.rng.randrange(8)

    def _set_byte(self, buf: bytearray) -> None:
        if buf:
            buf[self._pos(buf)] = self.rng.choice(BOUNDARY_U8) if self.rng.random() < 0.5 else self.rng.randrange(256)

    def _insert(self, buf: bytearray) -> None:
        i = self._pos(buf, 1)
        buf[i:i] = self.rng.randbytes(self.rng.choice((1, 1, 2, 4, 8, 32)))

    def _delete(self, buf: bytearray) -> None:
        if buf:
            i = self._pos(buf)
            del buf[i : i + self.rng.choice((1, 1, 2, 4, 16))]

    def _truncate(self, buf: bytearray) -> None:
        if buf:
            del buf[self._pos(buf) :]

    def _duplicate(self, buf: bytearray) -> None:
        if buf:
            i = self._pos(buf)
            piece = buf[i : i + self.rng.randrange(1, 64)]
            j = self._pos(buf, 1)
            buf[j:j] = piece

    def _splice(self, buf: bytearray) -> None:
        other = self.rng.choice(self.corpus)
        if not other:
            return
        cut = self._pos(buf, 1)
        start = self.rng.randrange(len(other))
        buf[cut:] = other[start:]

    def _int16(self, buf: bytearray) -> None:
        if len(buf) >= 2:
            i = self.rng.randrange(len(buf) - 1)
            buf[i : i + 2] = struct.pack(">H", self.rng.choice(BOUNDARY_U16))

    def _int32(self, buf: bytearray) -> None:
        if len(buf) >= 4:
            i = self.rng.randrange(len(buf) - 3)
            buf[i : i + 4] = struct.pack(">I", self.rng.choice(BOUNDARY_U32))

    def _random_run(self, buf: bytearray) -> None:
        if buf:
            i = self._pos(buf)
            n = self.rng.randrange(1, 17)
            buf[i : i + n] = self.rng.randbytes(n)


def odd_value(rng: random.Random, depth: int = 0) -> object:
    """A CBOR-encodable value of a random type, biased to edge cases (for structured mutation)."""
    choice = rng.randrange(12 if depth < 2 else 9)
    if choice == 0:
        return rng.choice((0, 1, -1, 2**31, 2**32, 2**63, -(2**63), 2**64 + 5, -(2**70)))
    if choice == 1:
        return rng.randrange(-1000, 300_000)
    if choice == 2:
        return rng.choice(("", "x", "é" * 3, "\x00", "a" * 2001, "image/png", "nl", "en"))
    if choice == 3:
        return rng.randbytes(rng.choice((0, 1, 4, 8, 31, 32, 33, 64, 1600)))
    if choice == 4:
        return rng.choice((None, True, False))
    if choice == 5:
        return rng.choice((0.0, -0.0, 1.5, float("inf"), float("nan"), 1e308))
    if choice == 6:
        return rng.choice(("https://creativecommons.org/licenses/by-sa/4.0/", "https://example.org/"))
    if choice == 7:
        return {"en": rng.choice(("t", "", "a" * 2001)), "nl": "t"} if rng.random() < 0.5 else {"xx": "t"}
    if choice == 8:
        return {}
    if choice == 9:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 10:
        return {odd_key(rng): odd_value(rng, depth + 1) for _ in range(rng.randrange(4))}
    return {"en": odd_value(rng, depth + 1)}


def odd_key(rng: random.Random) -> object:
    """A map key: usually text, sometimes an integer or bytes (CBOR allows any)."""
    return rng.choice(("v", "title", "x", "", 1, -1, b"k", "sig", "curator", "name"))


def mutate_map(obj: dict[object, object], rng: random.Random) -> dict[object, object]:
    """Replace, delete or add one to three entries of a decoded CBOR map (nested maps too)."""
    out = dict(obj)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(4)
        keys = list(out)
        if op == 0 and keys:
            out[rng.choice(keys)] = odd_value(rng)
        elif op == 1 and keys:
            del out[rng.choice(keys)]
        elif op == 2:
            out[odd_key(rng)] = odd_value(rng)
        else:
            nested = [k for k in keys if isinstance(out[k], dict)]
            if nested:
                key = rng.choice(nested)
                inner = out[key]
                assert isinstance(inner, dict)
                out[key] = mutate_map(inner, rng)
    return out
