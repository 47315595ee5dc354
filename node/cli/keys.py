"""``mesh-art keys``: create keys, endorsement requests and curator endorsements."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from firmware_config.qr import write_qr
from node.artwork.endorsement import Endorsement
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import ROLES, PublicKey, SecretKey, load_public, write_keypair
from node.artwork.keystore import MODERATE, write_sealed
from node.artwork.request import EndorsementRequest, read_request
from node.cli import CommandError
from node.cli.passphrase import new_passphrase, read_secret
from node.cli.terminal import printable


def parse_date(text: str) -> int:
    """``YYYY-MM-DD`` (end of that day, UTC) or an ISO timestamp, as Unix seconds."""
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)
            return int(end.timestamp())
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return int(moment.timestamp())
    except ValueError:
        raise CommandError(f"cannot read date {text!r}; use YYYY-MM-DD") from None


def cmd_new(args: argparse.Namespace) -> int:
    """Create a key pair."""
    out = Path(args.out)
    key = SecretKey.generate(args.role)
    try:
        out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if args.encrypt:
            pub_path = write_sealed(key, out, new_passphrase(out), strength=MODERATE, replace=args.force)
        else:
            pub_path = write_keypair(key, out, replace=args.force)
    except FileExistsError as exc:
        raise CommandError(f"{exc.filename} exists; use --force to overwrite") from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror}") from None
    sealed = ", encrypted with your passphrase" if args.encrypt else ""
    print(f"{args.role} key written to {out} (mode 0600{sealed}), public key {pub_path}")
    print(f"fingerprint {key.public.fingerprint}")
    return 0


def _read_request_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read endorsement request {path}: {exc.strerror}") from None


def cmd_endorse(args: argparse.Namespace) -> int:
    """Curator endorses an artist key."""
    if (args.request is None) == (args.artist is None):
        raise CommandError("give either --request (an artist's request file) or --artist with --name")
    try:
        curator = read_secret(Path(args.curator), "curator")
        if args.request is not None:
            request = read_request(_read_request_file(args.request))
            artist, name = request.public, args.name or request.name
            print(f"request from {printable(repr(request.name))} ({printable(request.contact or 'no contact given')}), "
                  f"key {artist.fingerprint}: check this fingerprint with the artist")
        else:
            artist, name = load_public(args.artist), args.name
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    except VerificationError as exc:
        raise CommandError(f"{args.request}: not a valid endorsement request ({exc})") from None
    if not name:
        raise CommandError("--name is needed with --artist")
    valid_until = parse_date(args.valid_until) if args.valid_until else None
    try:
        endorsement = Endorsement.create(curator, artist, name, int(time.time()), valid_until)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    Path(args.out).write_bytes(endorsement.to_bytes())
    until = f", valid until {args.valid_until}" if args.valid_until else ""
    print(f"endorsed {printable(repr(name))} ({artist.fingerprint}) by curator {curator.public.fingerprint}{until}")
    print(f"endorsement written to {args.out}")
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    """Artist: sign an endorsement request to give the curator."""
    try:
        artist = read_secret(Path(args.key), "artist")
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    try:
        request = EndorsementRequest.create(artist, args.name, args.contact or "", int(time.time()))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    Path(args.out).write_bytes(request.to_bytes())
    print(f"endorsement request for {request.name!r}, key {PublicKey(request.artist).fingerprint}, "
          f"written to {args.out} ({len(request.to_bytes())} bytes)")
    if args.qr:
        try:
            write_qr(request.to_text(), Path(args.qr), scale=4)
        except (ValueError, OSError) as exc:
            raise CommandError(f"cannot write the QR code: {exc}") from None
        print(f"QR code written to {args.qr}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``keys new``, ``keys request`` and ``keys endorse``."""
    keys = subparsers.add_parser("keys", help="create keys and endorsements")
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="create a key pair (private file 0600 plus PATH.pub)")
    new.add_argument("--role", choices=ROLES, required=True)
    new.add_argument("--out", required=True, help="private key path; the public key goes to PATH.pub")
    new.add_argument("--force", action="store_true", help="replace existing key files (never through a symlink)")
    new.add_argument("--encrypt", action="store_true",
                     help="encrypt the private key with a passphrase (Argon2id), as mesh-art studio does")
    new.set_defaults(func=cmd_new)
    request = sub.add_parser("request", help="artist: sign an endorsement request for the curator")
    request.add_argument("--key", required=True, help="your artist private key file (plain or encrypted)")
    request.add_argument("--name", required=True, help="your name as galleries should show it")
    request.add_argument("--contact", help="how the curator reaches you (e-mail, phone)")
    request.add_argument("--out", required=True, help="request file to write (.meshart-request)")
    request.add_argument("--qr", help="also write the request as a QR code (.svg or .png)")
    request.set_defaults(func=cmd_request)
    endorse = sub.add_parser("endorse", help="curator: sign an endorsement of an artist key")
    endorse.add_argument("--curator", required=True, help="curator private key file (plain or encrypted)")
    endorse.add_argument("--request", help="the artist's endorsement request file (or its QR text in a file)")
    endorse.add_argument("--artist", help="artist public key (.pub file or base64), instead of --request")
    endorse.add_argument("--name", help="the artist's name as shown in galleries (default: the request's)")
    endorse.add_argument("--valid-until", help="last day of validity, YYYY-MM-DD")
    endorse.add_argument("--out", required=True, help="endorsement file to write")
    endorse.set_defaults(func=cmd_endorse)
