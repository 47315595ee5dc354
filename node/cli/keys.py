"""``mesh-art keys``: create keys and curator endorsements."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from node.artwork.endorsement import Endorsement
from node.artwork.errors import KeyFileError
from node.artwork.keys import ROLES, SecretKey, load_public, load_secret, write_keypair
from node.cli import CommandError


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
        pub_path = write_keypair(key, out, replace=args.force)
    except FileExistsError as exc:
        raise CommandError(f"{exc.filename} exists; use --force to overwrite") from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror}") from None
    print(f"{args.role} key written to {out} (mode 0600), public key {pub_path}")
    print(f"fingerprint {key.public.fingerprint}")
    return 0


def cmd_endorse(args: argparse.Namespace) -> int:
    """Curator endorses an artist key."""
    try:
        curator = load_secret(Path(args.curator), role="curator")
        artist = load_public(args.artist)
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    valid_until = parse_date(args.valid_until) if args.valid_until else None
    try:
        endorsement = Endorsement.create(curator, artist, args.name, int(time.time()), valid_until)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    Path(args.out).write_bytes(endorsement.to_bytes())
    until = f", valid until {args.valid_until}" if args.valid_until else ""
    print(f"endorsed {args.name!r} ({artist.fingerprint}) by curator {curator.public.fingerprint}{until}")
    print(f"endorsement written to {args.out}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``keys new`` and ``keys endorse``."""
    keys = subparsers.add_parser("keys", help="create keys and endorsements")
    sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="create a key pair (private file 0600 plus PATH.pub)")
    new.add_argument("--role", choices=ROLES, required=True)
    new.add_argument("--out", required=True, help="private key path; the public key goes to PATH.pub")
    new.add_argument("--force", action="store_true", help="replace existing key files (never through a symlink)")
    new.set_defaults(func=cmd_new)
    endorse = sub.add_parser("endorse", help="curator: sign an endorsement of an artist key")
    endorse.add_argument("--curator", required=True, help="curator private key file")
    endorse.add_argument("--artist", required=True, help="artist public key (.pub file or base64)")
    endorse.add_argument("--name", required=True, help="the artist's name as shown in galleries")
    endorse.add_argument("--valid-until", help="last day of validity, YYYY-MM-DD")
    endorse.add_argument("--out", required=True, help="endorsement file to write")
    endorse.set_defaults(func=cmd_endorse)
