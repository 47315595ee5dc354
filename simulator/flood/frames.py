"""The flood baseline's frames: Meshtastic's routing fields, then a piece of a work or a missing list.

A frame starts with ``(from, id, flags)``: the fields of Meshtastic's 16-byte header the router
reads, with ``flags`` laid out as the firmware's (``RadioInterface.h``: hop limit in bits 0-2,
hop start in bits 5-7). The airtime already counts the 16-byte header, so these 9 bytes are not
counted again (``ROUTING.size`` is the agent's ``INBAND_HEADER_BYTES``).

The payload (at most ``MAX_APP_PAYLOAD`` bytes, one PRIVATE_APP packet) is one of:

* a manifest piece: ``kind=1, short id, index, piece count`` and up to 222 bytes of the signed manifest;
* a chunk: ``kind=2, short id, index`` and the chunk;
* a missing list (repair only): ``kind=3, short id, section, first index`` and a bitmap, bit ``i``
  set when piece ``first + i`` of the section (0 = manifest, 1 = chunks) is missing. An empty
  manifest bitmap means "the whole manifest" (the node has never heard a manifest piece).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from node.artwork.bundle import Bundle
from node.lora import MAX_APP_PAYLOAD

HOP_MAX = 7  # MeshTypes.h HOP_MAX: three bits of hop limit
ROUTING = struct.Struct(">IIB")  # from, packet id, flags
_PIECE = struct.Struct(">B4sH")  # kind, short work id, index
_MANIFEST_PIECE = struct.Struct(">B4sHH")  # kind, short work id, index, piece count
_MISSING = struct.Struct(">B4sBH")  # kind, short work id, section, first index
MANIFEST_BODY = MAX_APP_PAYLOAD - _MANIFEST_PIECE.size  # 222
MISSING_SPAN = (MAX_APP_PAYLOAD - _MISSING.size) * 8  # pieces one missing list can name


class Kind(IntEnum):
    """What a payload carries."""

    MANIFEST = 1
    CHUNK = 2
    MISSING = 3


class Section(IntEnum):
    """Which pieces of a work a missing list names."""

    MANIFEST = 0
    CHUNKS = 1


@dataclass(frozen=True)
class Routing:
    """The header fields the router reads."""

    sender: int
    packet_id: int
    hop_limit: int
    hop_start: int

    @property
    def key(self) -> tuple[int, int]:
        """``(from, id)``: what ``PacketHistory`` dedupes on."""
        return (self.sender, self.packet_id)

    def pack(self) -> bytes:
        """The 9 bytes at the front of the frame."""
        return ROUTING.pack(self.sender, self.packet_id, (self.hop_start << 5) | self.hop_limit)


def parse_routing(frame: bytes) -> Routing | None:
    """The routing fields of ``frame``, or None if it is too short to be one of ours."""
    if len(frame) < ROUTING.size:
        return None
    sender, packet_id, flags = ROUTING.unpack_from(frame)
    return Routing(sender, packet_id, flags & 0x07, flags >> 5)


PieceKey = tuple[bytes, Kind, int]  # (short work id, MANIFEST or CHUNK, index)


@dataclass(frozen=True)
class Piece:
    """A manifest piece or a chunk of the work with short id ``short``."""

    short: bytes
    kind: Kind
    index: int
    count: int  # manifest pieces in all (manifest pieces only; 0 for chunks)
    body: bytes

    @property
    def key(self) -> PieceKey:
        """What identifies the piece whoever sends it."""
        return (self.short, self.kind, self.index)


@dataclass(frozen=True)
class Missing:
    """A node's list of the pieces of one section of one work it still lacks."""

    short: bytes
    section: Section
    indices: tuple[int, ...]  # empty for a manifest section: the whole manifest


def parse_payload(payload: bytes) -> Piece | Missing | None:
    """The piece or missing list in ``payload``; None for anything malformed."""
    if len(payload) < _PIECE.size:
        return None
    kind = payload[0]
    if kind == Kind.MANIFEST and len(payload) >= _MANIFEST_PIECE.size:
        _, short, index, count = _MANIFEST_PIECE.unpack_from(payload)
        if index >= count:
            return None
        return Piece(short, Kind.MANIFEST, index, count, payload[_MANIFEST_PIECE.size :])
    if kind == Kind.CHUNK:
        _, short, index = _PIECE.unpack_from(payload)
        return Piece(short, Kind.CHUNK, index, 0, payload[_PIECE.size :])
    if kind == Kind.MISSING and len(payload) >= _MISSING.size:
        _, short, section, first = _MISSING.unpack_from(payload)
        if section not in (Section.MANIFEST, Section.CHUNKS):
            return None
        bitmap = payload[_MISSING.size :]
        indices = tuple(first + 8 * i + b for i, byte in enumerate(bitmap) for b in range(8) if byte >> b & 1)
        return Missing(short, Section(section), indices)
    return None


def manifest_piece_count(raw: bytes) -> int:
    """How many pieces the signed manifest ``raw`` is cut into."""
    return -(-len(raw) // MANIFEST_BODY)


def manifest_piece(short: bytes, index: int, count: int, body: bytes) -> bytes:
    """The payload carrying manifest piece ``index`` of ``count``."""
    return _MANIFEST_PIECE.pack(Kind.MANIFEST, short, index, count) + body


def manifest_body(raw: bytes, index: int) -> bytes:
    """Piece ``index`` of the signed manifest ``raw``."""
    return raw[index * MANIFEST_BODY : (index + 1) * MANIFEST_BODY]


def chunk_piece(short: bytes, index: int, chunk: bytes) -> bytes:
    """The payload carrying chunk ``index``."""
    return _PIECE.pack(Kind.CHUNK, short, index) + chunk


def work_packets(bundle: Bundle) -> list[tuple[PieceKey, bytes]]:
    """Every manifest piece, then every chunk, each one payload that fits one packet."""
    short = bundle.signed.short_id
    raw = bundle.signed.raw
    count = manifest_piece_count(raw)
    out = [((short, Kind.MANIFEST, i), manifest_piece(short, i, count, manifest_body(raw, i))) for i in range(count)]
    out += [((short, Kind.CHUNK, i), chunk_piece(short, i, c)) for i, c in enumerate(bundle.chunks())]
    assert all(len(payload) <= MAX_APP_PAYLOAD for _, payload in out)
    return out


def missing_payloads(short: bytes, section: Section, indices: list[int]) -> list[bytes]:
    """Missing lists naming ``indices`` (sorted), as few payloads as fit; one empty list for "all"."""
    if not indices:
        return [_MISSING.pack(Kind.MISSING, short, section, 0)]
    out = []
    i = 0
    while i < len(indices):
        first = indices[i]
        bitmap = bytearray()
        while i < len(indices) and indices[i] - first < MISSING_SPAN:
            offset = indices[i] - first
            while len(bitmap) <= offset // 8:
                bitmap.append(0)
            bitmap[offset // 8] |= 1 << (offset % 8)
            i += 1
        out.append(_MISSING.pack(Kind.MISSING, short, section, first) + bytes(bitmap))
    return out
