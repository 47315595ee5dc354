"""Ed25519 identities (PyNaCl): curator, artist and node keys and their files.

A private key file holds one line ``mesh-art-secret-v1 <role> <base64 seed>`` and is written
with mode 0600; the public file beside it (``PATH.pub``) holds
``mesh-art-public-v1 <role> <base64 key>``. Options that take a public key accept such a file
or the bare base64 string.
"""

from __future__ import annotations

import base64
import binascii
import errno
import functools
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nacl.exceptions
import nacl.signing

from node.artwork.errors import KeyFileError
from node.files import write_new_file

Role = Literal["curator", "artist", "node"]
ROLES: tuple[Role, ...] = ("curator", "artist", "node")
SECRET_TAG = "mesh-art-secret-v1"
PUBLIC_TAG = "mesh-art-public-v1"


@functools.lru_cache(maxsize=4096)
def _verified(raw: bytes, message: bytes, signature: bytes) -> bool:
    # A pure function of its bytes: the same beacon or manifest heard again (by many simulated
    # nodes in one process, or by one node from many neighbours) is checked once.
    try:
        nacl.signing.VerifyKey(raw).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def fingerprint(raw_public_key: bytes) -> str:
    """Short human-comparable fingerprint of a public key: 16 hex digits in groups of 4."""
    digest = hashlib.sha256(raw_public_key).hexdigest()[:16]
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 verification key with the role it was issued for (if known)."""

    raw: bytes
    role: Role | None = None

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's signature over ``message``."""
        if len(signature) != 64:
            return False
        return _verified(self.raw, message, signature)

    @property
    def fingerprint(self) -> str:
        """See :func:`fingerprint`."""
        return fingerprint(self.raw)

    def to_line(self) -> str:
        """The one-line public key file format."""
        role = self.role or "artist"
        return f"{PUBLIC_TAG} {role} {base64.b64encode(self.raw).decode()}"


class SecretKey:
    """An Ed25519 signing key. Its repr and str never reveal the key material."""

    __slots__ = ("_signing", "role")

    def __init__(self, seed: bytes, role: Role) -> None:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._signing = nacl.signing.SigningKey(seed)
        self.role: Role = role

    @classmethod
    def generate(cls, role: Role) -> SecretKey:
        """A fresh random key for ``role``."""
        return cls(os.urandom(32), role)

    @classmethod
    def from_seed_text(cls, text: str, role: Role) -> SecretKey:
        """Deterministic key derived from text (for demo and test fixtures only)."""
        return cls(hashlib.sha256(text.encode()).digest(), role)

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(bytes(self._signing.verify_key), self.role)

    def sign(self, message: bytes) -> bytes:
        """Detached 64-byte signature over ``message``."""
        return bytes(self._signing.sign(message).signature)

    def seed_bytes(self) -> bytes:
        """The raw 32-byte seed; only for writing the key file."""
        return bytes(self._signing)

    def __repr__(self) -> str:
        return f"<SecretKey role={self.role} public={self.public.fingerprint}>"

    __str__ = __repr__


def public_path(path: Path) -> Path:
    """Where the public key of the private key file ``path`` goes: ``PATH.pub``."""
    return path.with_name(path.name + ".pub")


def write_keypair(key: SecretKey, path: Path, *, replace: bool = False) -> Path:
    """Write ``path`` (mode 0600) and ``path.pub``; returns the public file path.

    Neither write follows a symlink (see :mod:`node.files`). Without ``replace``, a file (or a
    symlink) already at either path raises ``FileExistsError`` before anything is written.
    """
    path = Path(path)
    pub_path = public_path(path)
    if not replace:
        for existing in (path, pub_path):
            if os.path.lexists(existing):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(existing))
    line = f"{SECRET_TAG} {key.role} {base64.b64encode(key.seed_bytes()).decode()}\n"
    write_new_file(path, line.encode(), mode=0o600, replace=replace)
    write_new_file(pub_path, (key.public.to_line() + "\n").encode(), mode=0o644, replace=replace)
    return pub_path


def _parse_role(word: str, source: str) -> Role:
    for role in ROLES:
        if word == role:
            return role
    raise KeyFileError(f"{source}: unknown key role {word!r}")


def _read_private(path: Path) -> str:
    """The text of a private key file that only its owner can read (refused otherwise, as ssh does)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        # ssh's rule (sshkey_perm_ok): a key of one's own must not be open to group or others.
        if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077:
            raise KeyFileError(f"{path} is readable by others (mode {stat.S_IMODE(info.st_mode):04o}); "
                               f"a private key must be yours alone: chmod 600 {path}")
        try:
            return handle.read(4096).decode()
        except (OSError, UnicodeDecodeError):
            raise KeyFileError(f"{path} is not a mesh-art private key file") from None


def read_private_text(path: Path) -> str:
    """The text of a private key file of any format, refused unless only its owner can read it."""
    return _read_private(Path(path))


def load_secret(path: Path, role: Role | None = None) -> SecretKey:
    """Read a private key file (mode 0600 or stricter when it is ours), optionally insisting on its role."""
    path = Path(path)
    words = _read_private(path).split()
    if len(words) != 3 or words[0] != SECRET_TAG:
        if words and words[0] == PUBLIC_TAG:
            raise KeyFileError(f"{path} is a public key; a private key file is needed here")
        raise KeyFileError(f"{path} is not a mesh-art private key file")
    found = _parse_role(words[1], str(path))
    if role is not None and found != role:
        raise KeyFileError(f"{path} is a {found} key; a {role} key is needed here")
    try:
        seed = base64.b64decode(words[2], validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{path}: the key is not valid base64") from None
    if len(seed) != 32:
        raise KeyFileError(f"{path}: the key has the wrong length")
    return SecretKey(seed, found)


def load_public(spec: str | Path) -> PublicKey:
    """Read a public key from a ``.pub`` file, or parse a bare base64 key or key line."""
    text = str(spec)
    path = Path(text)
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if is_file:
        try:
            text = path.read_text()
        except OSError as exc:
            raise KeyFileError(f"cannot read public key {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise KeyFileError(f"{path} is not a public key file (it is not text)") from None
    words = text.split()
    where = str(path) if is_file else "the given key text"
    role: Role | None = None
    if len(words) >= 3 and words[0] == PUBLIC_TAG:
        role = _parse_role(words[1], where)
        b64 = words[2]
    elif len(words) == 1:
        b64 = words[0]
    else:
        # Name the file, never echo text given inline: it may be private key material.
        if words and words[0] == SECRET_TAG:
            raise KeyFileError(f"{where} is a private key; give the .pub file instead")
        raise KeyFileError(f"{where} is neither a public key file nor a base64 key")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        if not is_file and len(words) == 1:
            # Not a 32-byte key, so not key material either: most likely a mistyped file name.
            raise KeyFileError(f"no public key file {text!r} (and it is not a base64 key)")
        raise KeyFileError(f"{where}: the public key is not 32 bytes of base64")
    return PublicKey(raw, role)
