"""Chunking of a work's content, sized for one Meshtastic PRIVATE_APP frame.

A data frame is ``1 (version/kind) + 4 (short work id) + 2 (chunk index) + chunk`` bytes and
must fit the 231-byte payload limit, so a chunk holds at most 224 bytes. Each chunk has an
8-byte BLAKE2b hash keyed with the work's SHA-256 content hash; the manifest lists them, so
every chunk verifies the moment it arrives. The full SHA-256 is checked again when the last
chunk lands, so a truncated per-chunk hash never decides completeness alone.
"""

from __future__ import annotations

import hashlib

from node.lora import MAX_APP_PAYLOAD

MAX_FRAME_PAYLOAD = MAX_APP_PAYLOAD
DATA_FRAME_HEADER = 7
CHUNK_SIZE = MAX_FRAME_PAYLOAD - DATA_FRAME_HEADER  # 224
CHUNK_HASH_LEN = 8


def content_hash(content: bytes) -> bytes:
    """SHA-256 of the whole work."""
    return hashlib.sha256(content).digest()


def chunk_count(size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """How many chunks a work of ``size`` bytes has (an empty work has none)."""
    return (size + chunk_size - 1) // chunk_size


def split(content: bytes, chunk_size: int = CHUNK_SIZE) -> list[bytes]:
    """The content cut into chunks of ``chunk_size`` (the last may be shorter)."""
    return [content[i : i + chunk_size] for i in range(0, len(content), chunk_size)]


def chunk_hash(chunk: bytes, whole_hash: bytes) -> bytes:
    """The 8-byte keyed hash of one chunk."""
    return hashlib.blake2b(chunk, digest_size=CHUNK_HASH_LEN, key=whole_hash).digest()


def hash_list(content: bytes, chunk_size: int = CHUNK_SIZE) -> bytes:
    """Concatenated chunk hashes for ``content``, as stored in the manifest."""
    whole = content_hash(content)
    return b"".join(chunk_hash(c, whole) for c in split(content, chunk_size))


def expected_chunk_len(index: int, size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Length chunk ``index`` must have in a work of ``size`` bytes."""
    count = chunk_count(size, chunk_size)
    if not 0 <= index < count:
        raise IndexError(index)
    if index < count - 1:
        return chunk_size
    return size - chunk_size * (count - 1)
