"""Canonical (deterministic) CBOR, RFC 8949 §4.2.1 core deterministic encoding.

Every signed structure is signed over its canonical encoding, and decoding insists on it:
bytes that decode but would re-encode differently are rejected, so one object has exactly
one valid byte string and signatures cannot be malleated.
"""

from __future__ import annotations

from typing import Any

import cbor2

from node.artwork.errors import VerificationError


def encode(obj: Any) -> bytes:
    """Encode ``obj`` as canonical CBOR."""
    return cbor2.dumps(obj, canonical=True)


def decode(data: bytes, *, max_size: int = 1 << 20, what: str = "data") -> Any:
    """Decode canonical CBOR, rejecting malformed, oversize or non-canonical input."""
    if len(data) > max_size:
        raise VerificationError("oversize", f"{what} is {len(data)} bytes, limit {max_size}")
    try:
        obj = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types, all mean "malformed"
        raise VerificationError("malformed-cbor", f"{what} is not valid CBOR ({exc})") from None
    try:
        again = encode(obj)
    except Exception:
        raise VerificationError("malformed-cbor", f"{what} holds unencodable values") from None
    if again != data:
        raise VerificationError("non-canonical", f"{what} is not canonical CBOR")
    return obj
