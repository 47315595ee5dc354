"""The wire codec: every frame kind as a frozen dataclass, ``encode`` and ``decode``.

Rule 1: every encoded frame is at most :data:`MAX_FRAME` (231) bytes, the Meshtastic
PRIVATE_APP payload limit; the encoder refuses to produce anything longer.
Rule 2: :func:`decode` raises nothing but :class:`FrameError`, whose ``reason`` becomes a drop
counter in the engine. Decoding checks layout only; signatures and hashes are the engine's job.

Byte 0 of every frame is ``version << 4 | kind``; docs/PROTOCOL.md has the byte tables.
Integers are big-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from node.lora import MAX_APP_PAYLOAD

MAX_FRAME = MAX_APP_PAYLOAD
VERSION = 3
OLD_VERSIONS = (1, 2)  # answered with the drop reason "old-version": that node needs an update
SHORT_ID_LEN = 4
DIGEST_LEN = 4
NODE_KEY_LEN = 32
SIGNATURE_LEN = 64

KIND_ADVERT = 1
KIND_MANIFEST = 2
KIND_DATA = 3
KIND_REQUEST = 4
KIND_TAKEDOWN = 5
KIND_STATUS = 6
KIND_CODED = 7
KIND_REVOCATION = 8
KIND_BATCH = 9

# Advert entry states (u16): a count of chunks held, or one of these markers.
STATE_COMPLETE = 0xFFFF
STATE_TAKEN_DOWN = 0xFFFE
STATE_REVOKED = 0xFFFD  # the entry's 4 bytes name a key a curator revoked
MAX_CHUNK_STATE = 0xFFFC

# Request targets.
TARGET_MANIFEST = 0
TARGET_CHUNKS = 1
TARGET_TAKEDOWN = 2
TARGET_REVOCATION = 3

_ADVERT_HEAD = struct.Struct(">B4sBB")  # kind byte, digest, page, page count
_ADVERT_ENTRY = struct.Struct(">4sH")
_MANIFEST_HEAD = struct.Struct(">B4sBH")  # kind byte, short id, piece index, manifest length
_DATA_HEAD = struct.Struct(">B4sH")  # kind byte, short id, chunk index
_REQUEST_HEAD = struct.Struct(">B4sBBH")  # kind byte, short id, target, best-source margin, bitmap base index
_STATUS_HEAD = struct.Struct(">B32sIIIHHii")  # kind, key, boot id, seq, uptime, permille, works, lat, lon

ADVERT_MAX_ENTRIES = (MAX_FRAME - _ADVERT_HEAD.size) // _ADVERT_ENTRY.size  # 37
MANIFEST_PIECE_MAX = MAX_FRAME - _MANIFEST_HEAD.size  # 223
DATA_MAX = MAX_FRAME - _DATA_HEAD.size  # 224
REQUEST_BITMAP_MAX = MAX_FRAME - _REQUEST_HEAD.size  # 222 bytes = 1776 indices
MARGIN_UNKNOWN = 255  # a request's source margin when the requester has no recent source
STATUS_TEXT_MAX = MAX_FRAME - _STATUS_HEAD.size - 2 - SIGNATURE_LEN  # venue + version bytes
NO_POSITION = -(2**31)
POSITION_SCALE = 10_000_000


class FrameError(Exception):
    """A received frame could not be decoded; ``reason`` names the drop counter."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class AdvertEntry:
    """One work in an inventory: its short id and a state (chunk count or a marker)."""

    short_id: bytes
    state: int


@dataclass(frozen=True)
class Advert:
    """Trickle inventory page: digest of (complete works + takedowns) and entries."""

    digest: bytes
    page: int
    pages: int
    entries: tuple[AdvertEntry, ...]


@dataclass(frozen=True)
class ManifestPiece:
    """Piece ``index`` of a signed manifest of ``total_len`` bytes."""

    short_id: bytes
    index: int
    total_len: int
    data: bytes

    @staticmethod
    def piece_count(total_len: int) -> int:
        """Number of pieces a manifest of ``total_len`` bytes is split into."""
        return (total_len + MANIFEST_PIECE_MAX - 1) // MANIFEST_PIECE_MAX


def manifest_piece(raw: bytes, short_id: bytes, index: int) -> ManifestPiece | None:
    """Piece ``index`` of a signed manifest ``raw``, or None when out of range."""
    start = index * MANIFEST_PIECE_MAX
    if not 0 <= start < len(raw):
        return None
    return ManifestPiece(short_id, index, len(raw), raw[start : start + MANIFEST_PIECE_MAX])


@dataclass(frozen=True)
class DataChunk:
    """Chunk ``index`` of a work's content."""

    short_id: bytes
    index: int
    data: bytes


@dataclass(frozen=True)
class CodedChunk:
    """XOR of the chunks that ``seed`` names (``node.protocol.coding.coded_indices``), padded."""

    short_id: bytes
    seed: int
    data: bytes


@dataclass(frozen=True)
class Request:
    """A request for missing manifest pieces, chunks, or a takedown of a short id.

    ``bitmap`` bit ``i`` (MSB first) asks for index ``base + i``; an empty bitmap asks for
    everything (used when the manifest length is not yet known, and for takedowns).
    ``source_margin`` is how many dB above the demodulation floor the requester heard its best
    recent source of this work (``MARGIN_UNKNOWN``: none lately); a holder it hears much worse
    than that leaves the answer to that source.
    """

    short_id: bytes
    target: int
    base: int
    bitmap: bytes
    source_margin: int = MARGIN_UNKNOWN

    @classmethod
    def for_indices(cls, short_id: bytes, target: int, indices: list[int],
                    source_margin: int = MARGIN_UNKNOWN) -> Request:
        """Build a compact request for ``indices`` (trailing bytes that would be zero are left out)."""
        if not indices:
            return cls(short_id, target, 0, b"", source_margin)
        base = min(indices)
        span = max(indices) - base + 1
        bits = bytearray((span + 7) // 8)
        for i in indices:
            off = i - base
            bits[off // 8] |= 0x80 >> (off % 8)
        return cls(short_id, target, base, bytes(bits[:REQUEST_BITMAP_MAX]), source_margin)

    def indices(self) -> list[int]:
        """The requested indices in ascending order (empty means "all")."""
        out = []
        for byte_no, byte in enumerate(self.bitmap):
            if byte:
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        out.append(self.base + byte_no * 8 + bit)
        return out

    @property
    def wants_all(self) -> bool:
        """True for an empty bitmap, which asks for every index."""
        return not self.bitmap


@dataclass(frozen=True)
class TakedownFrame:
    """A curator takedown, carried as its signed canonical CBOR."""

    raw: bytes


@dataclass(frozen=True)
class RevocationFrame:
    """A curator revocation of an artist or node key, carried as its signed canonical CBOR."""

    raw: bytes


@dataclass(frozen=True)
class StatusBeacon:
    """A node's signed status; ``signature`` covers the encoding without it (domain-prefixed)."""

    node_key: bytes
    boot_id: int
    seq: int
    uptime_s: int
    airtime_permille: int
    works_held: int
    lat: float | None
    lon: float | None
    version: str
    venue: str
    signature: bytes = b""


@dataclass(frozen=True)
class Batch:
    """Several small control frames sent as one (coalescing): each entry is an encoded frame.

    One preamble instead of several, and on firmware 2.8 one signature instead of one per
    frame. Entries are never batches; a batch holds at least two.
    """

    frames: tuple[bytes, ...]

    @staticmethod
    def size(frames: list[bytes]) -> int:
        """Bytes of the batch frame holding ``frames``."""
        return 1 + sum(1 + len(f) for f in frames)


Frame = (Advert | ManifestPiece | DataChunk | CodedChunk | Request | TakedownFrame | StatusBeacon | RevocationFrame
         | Batch)

STATUS_DOMAIN = b"mesh-art/status/v1\x00"


def _kind_byte(kind: int) -> int:
    return (VERSION << 4) | kind


def _position(value: float | None) -> int:
    if value is None:
        return NO_POSITION
    return max(-(2**31) + 1, min(2**31 - 1, round(value * POSITION_SCALE)))


def _fit_text(text: str, limit: int) -> bytes:
    """UTF-8 encode, cutting at a character boundary to at most ``limit`` bytes."""
    data = text.encode()
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", errors="ignore").encode()


def status_body(beacon: StatusBeacon) -> bytes:
    """The beacon bytes without the signature (what the node key signs, after the domain)."""
    version = _fit_text(beacon.version, 32)
    venue = _fit_text(beacon.venue, STATUS_TEXT_MAX - len(version))
    head = _STATUS_HEAD.pack(
        _kind_byte(KIND_STATUS), beacon.node_key, beacon.boot_id, beacon.seq,
        min(beacon.uptime_s, 2**32 - 1), min(beacon.airtime_permille, 0xFFFF),
        min(beacon.works_held, 0xFFFF), _position(beacon.lat), _position(beacon.lon),
    )
    return head + bytes([len(version)]) + version + bytes([len(venue)]) + venue


def encode(frame: Frame) -> bytes:
    """Encode ``frame``; raises ValueError for values that cannot be represented (local misuse)."""
    out = _encode(frame)
    if len(out) > MAX_FRAME:
        raise ValueError(f"{type(frame).__name__} encodes to {len(out)} bytes, over {MAX_FRAME}")
    return out


def _check_short_id(short_id: bytes) -> None:
    if len(short_id) != SHORT_ID_LEN:
        raise ValueError("a short id is 4 bytes")


def _encode(frame: Frame) -> bytes:
    match frame:
        case Advert():
            if len(frame.entries) > ADVERT_MAX_ENTRIES or len(frame.digest) != DIGEST_LEN:
                raise ValueError("advert has too many entries or a bad digest")
            parts = [_ADVERT_HEAD.pack(_kind_byte(KIND_ADVERT), frame.digest, frame.page, frame.pages)]
            for entry in frame.entries:
                _check_short_id(entry.short_id)
                parts.append(_ADVERT_ENTRY.pack(entry.short_id, entry.state))
            return b"".join(parts)
        case ManifestPiece():
            _check_short_id(frame.short_id)
            return _MANIFEST_HEAD.pack(_kind_byte(KIND_MANIFEST), frame.short_id, frame.index,
                                       frame.total_len) + frame.data
        case DataChunk():
            _check_short_id(frame.short_id)
            return _DATA_HEAD.pack(_kind_byte(KIND_DATA), frame.short_id, frame.index) + frame.data
        case CodedChunk():
            _check_short_id(frame.short_id)
            if len(frame.data) != DATA_MAX:
                raise ValueError("a coded payload is always a full chunk")
            return _DATA_HEAD.pack(_kind_byte(KIND_CODED), frame.short_id, frame.seed) + frame.data
        case Request():
            _check_short_id(frame.short_id)
            return _REQUEST_HEAD.pack(_kind_byte(KIND_REQUEST), frame.short_id, frame.target,
                                      frame.source_margin, frame.base) + frame.bitmap
        case TakedownFrame():
            return bytes([_kind_byte(KIND_TAKEDOWN)]) + frame.raw
        case RevocationFrame():
            return bytes([_kind_byte(KIND_REVOCATION)]) + frame.raw
        case StatusBeacon():
            if len(frame.signature) != SIGNATURE_LEN:
                raise ValueError("a status beacon must be signed before encoding")
            return status_body(frame) + frame.signature
        case Batch():
            if len(frame.frames) < 2 or any(not f or f[0] & 0x0F == KIND_BATCH for f in frame.frames):
                raise ValueError("a batch holds two or more frames, none of them a batch")
            return bytes([_kind_byte(KIND_BATCH)]) + b"".join(bytes([len(f)]) + f for f in frame.frames)
    raise TypeError(f"not a frame: {frame!r}")


def decode(data: bytes) -> Frame:
    """Decode one frame. Raises only :class:`FrameError`."""
    try:
        return _decode(bytes(data))
    except FrameError:
        raise
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise FrameError("malformed", str(exc)) from None


def _decode(data: bytes) -> Frame:
    if not data:
        raise FrameError("empty")
    if len(data) > MAX_FRAME:
        raise FrameError("oversize", f"{len(data)} bytes")
    version, kind = data[0] >> 4, data[0] & 0x0F
    if version in OLD_VERSIONS:
        raise FrameError("old-version", f"version {version}; this node speaks version {VERSION}")
    if version != VERSION:
        raise FrameError("unknown-version", f"version {version}")
    if kind == KIND_ADVERT:
        return _decode_advert(data)
    if kind == KIND_MANIFEST:
        _, short_id, index, total_len = _unpack(_MANIFEST_HEAD, data)
        piece = data[_MANIFEST_HEAD.size :]
        pieces = ManifestPiece.piece_count(total_len)
        if total_len == 0 or index >= pieces or not piece:
            raise FrameError("malformed", "manifest piece outside its manifest")
        expected = min(MANIFEST_PIECE_MAX, total_len - index * MANIFEST_PIECE_MAX)
        if len(piece) != expected:
            raise FrameError("malformed", "manifest piece has the wrong length")
        return ManifestPiece(short_id, index, total_len, piece)
    if kind == KIND_DATA:
        _, short_id, index = _unpack(_DATA_HEAD, data)
        chunk = data[_DATA_HEAD.size :]
        if not chunk:
            raise FrameError("malformed", "empty chunk")
        return DataChunk(short_id, index, chunk)
    if kind == KIND_CODED:
        _, short_id, seed = _unpack(_DATA_HEAD, data)
        if len(data) != MAX_FRAME:
            raise FrameError("malformed", "a coded frame carries a full chunk")
        return CodedChunk(short_id, seed, data[_DATA_HEAD.size :])
    if kind == KIND_REQUEST:
        _, short_id, target, margin, base = _unpack(_REQUEST_HEAD, data)
        if target not in (TARGET_MANIFEST, TARGET_CHUNKS, TARGET_TAKEDOWN, TARGET_REVOCATION):
            raise FrameError("malformed", f"request target {target}")
        return Request(short_id, target, base, data[_REQUEST_HEAD.size :], margin)
    if kind == KIND_TAKEDOWN:
        if len(data) < 2:
            raise FrameError("truncated", "empty takedown")
        return TakedownFrame(data[1:])
    if kind == KIND_REVOCATION:
        if len(data) < 2:
            raise FrameError("truncated", "empty revocation")
        return RevocationFrame(data[1:])
    if kind == KIND_STATUS:
        return _decode_status(data)
    if kind == KIND_BATCH:
        return _decode_batch(data)
    raise FrameError("unknown-kind", f"kind {kind}")


def _decode_batch(data: bytes) -> Batch:
    frames = []
    offset = 1
    while offset < len(data):
        length = data[offset]
        inner = data[offset + 1 : offset + 1 + length]
        if not length or len(inner) != length:
            raise FrameError("truncated", "batch entry runs past the frame")
        if inner[0] & 0x0F == KIND_BATCH:
            raise FrameError("malformed", "a batch inside a batch")
        frames.append(inner)
        offset += 1 + length
    if len(frames) < 2:
        raise FrameError("malformed", "a batch of fewer than two frames")
    return Batch(tuple(frames))


def _unpack(layout: struct.Struct, data: bytes) -> tuple[Any, ...]:
    if len(data) < layout.size:
        raise FrameError("truncated", f"{len(data)} bytes, header needs {layout.size}")
    return layout.unpack_from(data)


def _decode_advert(data: bytes) -> Advert:
    _, digest, page, pages = _unpack(_ADVERT_HEAD, data)
    body = data[_ADVERT_HEAD.size :]
    if len(body) % _ADVERT_ENTRY.size or pages == 0 or page >= pages:
        raise FrameError("malformed", "advert entries or paging are inconsistent")
    entries = tuple(AdvertEntry(*_ADVERT_ENTRY.unpack_from(body, off))
                    for off in range(0, len(body), _ADVERT_ENTRY.size))
    return Advert(digest, page, pages, entries)


def _decode_status(data: bytes) -> StatusBeacon:
    fields = _unpack(_STATUS_HEAD, data)
    _, key, boot_id, seq, uptime, permille, works, lat, lon = fields
    pos = _STATUS_HEAD.size
    texts = []
    for _ in range(2):
        if pos >= len(data):
            raise FrameError("truncated", "status text lengths")
        n = data[pos]
        texts.append(data[pos + 1 : pos + 1 + n].decode("utf-8"))
        if pos + 1 + n > len(data):
            raise FrameError("truncated", "status text")
        pos += 1 + n
    signature = data[pos:]
    if len(signature) != SIGNATURE_LEN:
        raise FrameError("malformed", "status signature has the wrong length")
    return StatusBeacon(
        key, boot_id, seq, uptime, permille, works,
        None if lat == NO_POSITION else lat / POSITION_SCALE,
        None if lon == NO_POSITION else lon / POSITION_SCALE,
        texts[0], texts[1], signature,
    )
