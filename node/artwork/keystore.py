"""Private keys encrypted at rest with a passphrase (PyNaCl: Argon2id and ``SecretBox``).

A sealed key file holds one line::

    mesh-art-sealed-v1 <role> <base64 public key> argon2id <opslimit> <memlimit> <base64 salt> <base64 box>

The box is ``SecretBox`` (XSalsa20-Poly1305, random nonce included) under a key that Argon2id
derives from the passphrase and the salt; inside are the role's name and the 32-byte seed, so a
role edited in the clear line is caught on opening. The public key stands in the clear so a
fingerprint can be shown before the key is unlocked. Files are written mode 0600 through
:func:`node.files.write_new_file` (no symlink followed), and read with the same owner-only rule
as plain key files (:func:`node.artwork.keys.read_private_text`).

:func:`open_secret` reads either format: today's plain ``mesh-art-secret-v1`` files keep working
everywhere a private key is asked for.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from node.artwork.errors import KeyFileError
from node.artwork.keys import (
    ROLES,
    PublicKey,
    Role,
    SecretKey,
    load_secret,
    public_path,
    read_private_text,
)
from node.files import write_new_file

SEALED_TAG = "mesh-art-sealed-v1"
KDF_NAME = "argon2id"
MIN_PASSPHRASE = 8
# Limits on what a file may ask of the KDF, so a planted file cannot make us allocate gigabytes.
_MAX_OPSLIMIT = 20
_MAX_MEMLIMIT = 1 << 30


@dataclass(frozen=True)
class KdfStrength:
    """Argon2id cost: passes over memory (``opslimit``) and bytes of memory (``memlimit``)."""

    opslimit: int
    memlimit: int


# libsodium's recommended levels: MODERATE (~1 s, 256 MiB) for a key kept on a laptop;
# INTERACTIVE (~0.2 s, 64 MiB) where that is too slow (tests, small machines).
MODERATE = KdfStrength(nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
INTERACTIVE = KdfStrength(nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE)


class WrongPassphrase(KeyFileError):
    """The passphrase does not open this sealed key (or the file was altered)."""


def check_new_passphrase(passphrase: str, repeated: str | None = None) -> None:
    """Raise ``ValueError`` with a one-line reason unless ``passphrase`` is fit for a new key."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")
    if repeated is not None and repeated != passphrase:
        raise ValueError("the two passphrases differ")


def _derive(passphrase: str, salt: bytes, strength: KdfStrength) -> bytes:
    return bytes(nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
        opslimit=strength.opslimit, memlimit=strength.memlimit,
    ))


def seal(key: SecretKey, passphrase: str, strength: KdfStrength = MODERATE) -> str:
    """The sealed-file line for ``key`` under ``passphrase`` (no trailing newline)."""
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, strength))
    sealed = bytes(box.encrypt(key.role.encode() + b"\x00" + key.seed_bytes()))
    words = [SEALED_TAG, key.role, _b64(key.public.raw), KDF_NAME, str(strength.opslimit),
             str(strength.memlimit), _b64(salt), _b64(sealed)]
    return " ".join(words)


def write_sealed(key: SecretKey, path: Path, passphrase: str, *, strength: KdfStrength = MODERATE,
                 replace: bool = False) -> Path:
    """Write the sealed key to ``path`` (0600) and its public key to ``PATH.pub``; returns the latter.

    Without ``replace``, anything already at either path raises ``FileExistsError`` first.
    """
    path = Path(path)
    pub_path = public_path(path)
    if not replace:
        for existing in (path, pub_path):
            if os.path.lexists(existing):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(existing))
    line = seal(key, passphrase, strength)
    write_new_file(path, (line + "\n").encode(), mode=0o600, replace=replace)
    write_new_file(pub_path, (key.public.to_line() + "\n").encode(), mode=0o644, replace=replace)
    return pub_path


@dataclass(frozen=True)
class SealedKey:
    """A sealed key file as read, before it is opened."""

    path: Path
    role: Role
    public: PublicKey
    strength: KdfStrength
    salt: bytes
    box: bytes

    def open(self, passphrase: str) -> SecretKey:
        """The secret key; raises :class:`WrongPassphrase` if the passphrase does not fit."""
        box = nacl.secret.SecretBox(_derive(passphrase, self.salt, self.strength))
        try:
            plain = box.decrypt(self.box)
        except nacl.exceptions.CryptoError:
            raise WrongPassphrase(f"wrong passphrase for {self.path}") from None
        role_bytes, _, seed = plain.partition(b"\x00")
        if role_bytes != self.role.encode() or len(seed) != 32:
            raise KeyFileError(f"{self.path}: the sealed key does not match its header")
        key = SecretKey(seed, self.role)
        if key.public.raw != self.public.raw:
            raise KeyFileError(f"{self.path}: the sealed key does not match its public key")
        return key


def is_sealed_text(text: str) -> bool:
    """True when ``text`` is (the start of) a sealed key file."""
    return text.lstrip().startswith(SEALED_TAG + " ")


def parse_sealed(text: str, path: Path) -> SealedKey:
    """Read the sealed line of ``path`` (already read as ``text``); raises :class:`KeyFileError`."""
    words = text.split()
    if len(words) != 8 or words[0] != SEALED_TAG:
        raise KeyFileError(f"{path} is not a mesh-art sealed key file")
    role = next((r for r in ROLES if r == words[1]), None)
    if role is None:
        raise KeyFileError(f"{path}: unknown key role {words[1]!r}")
    if words[3] != KDF_NAME:
        raise KeyFileError(f"{path}: unknown key derivation {words[3]!r}")
    try:
        strength = KdfStrength(int(words[4]), int(words[5]))
        public, salt, box = (base64.b64decode(w, validate=True) for w in (words[2], words[6], words[7]))
    except (ValueError, binascii.Error):
        raise KeyFileError(f"{path}: the sealed key is damaged") from None
    if not (nacl.pwhash.argon2id.OPSLIMIT_MIN <= strength.opslimit <= _MAX_OPSLIMIT
            and nacl.pwhash.argon2id.MEMLIMIT_MIN <= strength.memlimit <= _MAX_MEMLIMIT):
        raise KeyFileError(f"{path}: the key derivation settings are out of range")
    if len(public) != 32 or len(salt) != nacl.pwhash.argon2id.SALTBYTES or len(box) < 40:
        raise KeyFileError(f"{path}: the sealed key is damaged")
    return SealedKey(path, role, PublicKey(public, role), strength, salt, box)


def read_sealed(path: Path) -> SealedKey:
    """Read a sealed key file (owner-only, as every private key file)."""
    path = Path(path)
    return parse_sealed(read_private_text(path), path)


def key_public(path: Path) -> PublicKey:
    """The public key of a private key file of either format, without any passphrase."""
    path = Path(path)
    text = read_private_text(path)
    if is_sealed_text(text):
        return parse_sealed(text, path).public
    return load_secret(path).public


def is_sealed(path: Path) -> bool:
    """True when the private key file at ``path`` is sealed (needs a passphrase)."""
    return is_sealed_text(read_private_text(Path(path)))


def open_secret(path: Path, role: Role | None = None, *,
                passphrase: Callable[[Path], str] | None = None) -> SecretKey:
    """Read a private key file, plain or sealed, optionally insisting on its role.

    A sealed file calls ``passphrase(path)`` for its passphrase; without that callback it is an
    error to meet one.
    """
    path = Path(path)
    text = read_private_text(path)
    if not is_sealed_text(text):
        return load_secret(path, role)
    sealed = parse_sealed(text, path)
    if role is not None and sealed.role != role:
        raise KeyFileError(f"{path} is a {sealed.role} key; a {role} key is needed here")
    if passphrase is None:
        raise KeyFileError(f"{path} is encrypted and no passphrase was given")
    return sealed.open(passphrase(path))


def config_home() -> Path:
    """The user's mesh-art configuration folder: ``$XDG_CONFIG_HOME/mesh-art`` or ``~/.config/mesh-art``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mesh-art"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()

