"""A radio's Curve25519 key pair, as the firmware keeps it in ``config.security`` and shows in NodeInfo.

The firmware generates the pair when the region is first set (``AdminModule::handleSetConfig``) or
at boot with a region (``NodeDB::NodeDB``), and recomputes the public key from a kept private key
(``CryptoEngine::regeneratePublicKey``). The virtual radio does the same with libsodium's X25519.
Messages are not PKI-encrypted on the simulated air; only the keys exist.
"""

from __future__ import annotations

import hashlib
import random

from nacl.bindings import crypto_scalarmult_base

KEY_BYTES = 32


def public_key_for(private_key: bytes) -> bytes:
    """The X25519 public key of ``private_key`` (clamped as Curve25519 requires)."""
    if len(private_key) != KEY_BYTES:
        raise ValueError(f"a private key has {KEY_BYTES} bytes, not {len(private_key)}")
    return bytes(crypto_scalarmult_base(private_key))


def private_key_from_rng(rng: random.Random) -> bytes:
    """A fresh private key drawn from the radio's own random stream (reproducible from its seed)."""
    return rng.getrandbits(8 * KEY_BYTES).to_bytes(KEY_BYTES, "little")


def private_key_for_name(name: str) -> bytes:
    """A stable private key for a scenario node, so a radio keeps its identity across restarts."""
    return hashlib.sha256(b"mesh-art virtual radio key\0" + name.encode()).digest()
