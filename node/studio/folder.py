"""The studio's folder on disk (default ``~/.config/mesh-art``): the one owner of its files.

Every file is in the format the ``mesh-art`` command reads and writes, so either tool can pick
up where the other left off::

    artist.key, artist.key.pub        sealed artist key (mode 0600) and its public key
    curator.key, curator.key.pub      sealed curator key and its public key
    artist.meshart-request            the artist's signed endorsement request
    artist.endorsement                the curator's endorsement of the artist key
    endorsed/<fingerprint>.endorsement   the curator's endorsed artists (one file each)
    endorsed/<fingerprint>.meshart-request  the request each endorsement answered
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import PublicKey, Role, SecretKey
from node.artwork.keystore import KdfStrength, key_public, open_secret, read_sealed, write_sealed
from node.artwork.request import FILE_SUFFIX, EndorsementRequest
from node.files import write_new_file

SOON_DAYS = 30  # an endorsement ending within this many days is flagged as ending soon


@dataclass(frozen=True)
class EndorsementState:
    """How an endorsement stands today: ``valid``, ``ending`` (within :data:`SOON_DAYS`) or ``expired``."""

    endorsement: Endorsement
    state: str
    days_left: int | None  # None: no end date

    @property
    def valid_until(self) -> str | None:
        """The last valid moment as an ISO date, or None."""
        until = self.endorsement.valid_until
        return None if until is None else dt.datetime.fromtimestamp(until, dt.UTC).date().isoformat()

    @property
    def curator_fingerprint(self) -> str:
        """The endorsing curator's fingerprint."""
        return PublicKey(self.endorsement.curator).fingerprint


def endorsement_state(endorsement: Endorsement, now: int) -> EndorsementState:
    """Classify ``endorsement`` at Unix time ``now``."""
    if endorsement.valid_until is None:
        return EndorsementState(endorsement, "valid", None)
    days = (endorsement.valid_until - now) // 86400
    if endorsement.valid_until < now:
        return EndorsementState(endorsement, "expired", days)
    return EndorsementState(endorsement, "ending" if days < SOON_DAYS else "valid", days)


@dataclass(frozen=True)
class EndorsedArtist:
    """One artist the curator endorsed, with the request it answered (when kept)."""

    state: EndorsementState
    contact: str

    @property
    def fingerprint(self) -> str:
        """The artist key's fingerprint."""
        return PublicKey(self.state.endorsement.artist).fingerprint


class StudioFolder:
    """Reads and writes the studio's files; nothing else touches them."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def ensure(self) -> None:
        """Create the folder (mode 0700) if it is missing."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)

    # keys

    def key_path(self, role: Role) -> Path:
        """Where the ``role`` key lives."""
        return self.home / f"{role}.key"

    def public_key(self, role: Role) -> PublicKey | None:
        """The public half of the ``role`` key, or None when there is none."""
        path = self.key_path(role)
        if not path.exists():
            return None
        return key_public(path)

    def public_key_line(self, role: Role) -> str | None:
        """The ``.pub`` file's line for the ``role`` key."""
        public = self.public_key(role)
        return None if public is None else PublicKey(public.raw, role).to_line()

    def is_sealed(self, role: Role) -> bool:
        """True when the stored ``role`` key needs a passphrase (always, for keys the studio wrote)."""
        try:
            read_sealed(self.key_path(role))
        except KeyFileError:
            return False
        return True

    def save_key(self, key: SecretKey, passphrase: str, strength: KdfStrength) -> None:
        """Seal ``key`` under ``passphrase`` as the key of its role (never over an existing one)."""
        self.ensure()
        write_sealed(key, self.key_path(key.role), passphrase, strength=strength)

    def open_key(self, role: Role, passphrase: str) -> SecretKey:
        """The ``role`` key, opened (raises ``WrongPassphrase`` or ``KeyFileError``)."""
        return open_secret(self.key_path(role), role, passphrase=lambda _path: passphrase)

    def import_key(self, data: bytes, role: Role, old_passphrase: str, passphrase: str,
                   strength: KdfStrength) -> SecretKey:
        """Take a key file's bytes (plain, or sealed under ``old_passphrase``) and store it sealed.

        The uploaded bytes go to a private scratch file only long enough to be read by the same
        code the CLI uses, and are removed at once.
        """
        self.ensure()
        scratch = self.home / f".import-{os.getpid()}-{role}.tmp"
        scratch.unlink(missing_ok=True)
        write_new_file(scratch, data, mode=0o600)
        try:
            key = open_secret(scratch, role, passphrase=lambda _path: old_passphrase)
        finally:
            scratch.unlink(missing_ok=True)
        self.save_key(key, passphrase, strength)
        return key

    # the artist's request and endorsement

    @property
    def request_path(self) -> Path:
        """The artist's endorsement request file."""
        return self.home / f"artist{FILE_SUFFIX}"

    @property
    def endorsement_path(self) -> Path:
        """The artist's endorsement file."""
        return self.home / "artist.endorsement"

    def request(self) -> EndorsementRequest | None:
        """The artist's request, if one was made (and still matches the artist key)."""
        if not self.request_path.exists():
            return None
        request = EndorsementRequest.from_bytes(self.request_path.read_bytes())
        public = self.public_key("artist")
        return request if public is not None and public.raw == request.artist else None

    def save_request(self, request: EndorsementRequest) -> None:
        """Keep the artist's request (replacing an older one)."""
        self.ensure()
        write_new_file(self.request_path, request.to_bytes(), replace=True)

    def endorsement(self) -> Endorsement | None:
        """The artist's endorsement, if one was imported."""
        if not self.endorsement_path.exists():
            return None
        return Endorsement.from_bytes(self.endorsement_path.read_bytes())

    def import_endorsement(self, data: bytes) -> Endorsement:
        """Check an endorsement file against the artist key and keep it.

        Raises ``VerificationError`` when it is malformed, its signature fails, or it endorses
        another key.
        """
        endorsement = Endorsement.from_bytes(data)
        endorsement.verify(TrustAnchors([PublicKey(endorsement.curator)]))
        public = self.public_key("artist")
        if public is None or endorsement.artist != public.raw:
            raise VerificationError("endorsement-mismatch",
                                    f"this endorsement is for key {PublicKey(endorsement.artist).fingerprint}, "
                                    f"not for your artist key {public.fingerprint if public else '(none yet)'}")
        self.ensure()
        write_new_file(self.endorsement_path, data, replace=True)
        return endorsement

    # the curator's endorsed artists

    @property
    def endorsed_dir(self) -> Path:
        """The folder of endorsements the curator signed."""
        return self.home / "endorsed"

    def add_endorsed(self, endorsement: Endorsement, request: EndorsementRequest | None) -> Path:
        """Keep an endorsement the curator signed (and its request); returns the endorsement file."""
        self.endorsed_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem = PublicKey(endorsement.artist).fingerprint.replace(":", "")
        path = self.endorsed_dir / f"{stem}.endorsement"
        write_new_file(path, endorsement.to_bytes(), replace=True)
        if request is not None:
            write_new_file(self.endorsed_dir / f"{stem}{FILE_SUFFIX}", request.to_bytes(), replace=True)
        return path

    def endorsed(self, now: int) -> list[EndorsedArtist]:
        """Every artist the curator endorsed, by name; unreadable files are skipped."""
        if not self.endorsed_dir.is_dir():
            return []
        artists = []
        for path in sorted(self.endorsed_dir.glob("*.endorsement")):
            try:
                endorsement = Endorsement.from_bytes(path.read_bytes())
            except (OSError, VerificationError):
                continue
            contact = ""
            request_file = path.with_suffix(FILE_SUFFIX)
            if request_file.exists():
                try:
                    contact = EndorsementRequest.from_bytes(request_file.read_bytes()).contact
                except (OSError, VerificationError):
                    contact = ""
            artists.append(EndorsedArtist(endorsement_state(endorsement, now), contact))
        return sorted(artists, key=lambda a: (a.state.endorsement.name.casefold(), a.fingerprint))

    def endorsed_file(self, fingerprint_hex: str) -> Path | None:
        """The endorsement file of the artist whose fingerprint (hex digits only) is given."""
        path = self.endorsed_dir / f"{fingerprint_hex}.endorsement"
        return path if fingerprint_hex.isalnum() and path.is_file() else None

