"""``mesh-art verify``: check a bundle's whole chain and print what it holds."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from node.artwork.bundle import Bundle, read_bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import PublicKey, load_public
from node.artwork.licences import licence_name
from node.cli import CommandError, add_trust_argument
from node.cli.keys import parse_date
from node.cli.terminal import printable


def load_trust(specs: Sequence[str]) -> TrustAnchors:
    """Trust anchors from ``--trust`` values (curator ``.pub`` files or base64 keys)."""
    if not specs:
        raise CommandError("give at least one --trust CURATOR.pub")
    keys = []
    for spec in specs:
        try:
            key = load_public(spec)
        except KeyFileError as exc:
            raise CommandError(str(exc)) from None
        if key.role not in (None, "curator"):
            raise CommandError(f"{spec} is not a curator key (role {key.role}); --trust takes curator public keys")
        keys.append(key)
    return TrustAnchors(keys)


def read_file(path: str, what: str = "bundle") -> bytes:
    """The bytes of a file, or a one-line CommandError."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {what} {path}: {exc.strerror}") from None


def verified_bundle(path: str, trust: TrustAnchors, at: int | None) -> Bundle:
    """Read and fully verify a bundle file, turning failures into one-line errors."""
    data = read_file(path)
    try:
        return read_bundle(data, trust, at=at)
    except VerificationError as exc:
        raise CommandError(f"{path}: REJECTED {exc.reason}: {exc.message}") from None


def summary_lines(bundle: Bundle) -> list[str]:
    """A short description of a verified bundle (its texts are the signer's: print them escaped)."""
    m = bundle.signed.manifest
    titles = " / ".join(f"{m.title[lang]} ({lang})" for lang in sorted(m.title))
    until = "no end date"
    if m.endorsement.valid_until is not None:
        until = "until " + time.strftime("%Y-%m-%d", time.gmtime(m.endorsement.valid_until))
    return [
        f"title:    {titles}",
        f"artist:   {m.creator} (key {PublicKey(m.artist).fingerprint})",
        f"endorsed: as {m.endorsement.name!r} by curator {PublicKey(m.endorsement.curator).fingerprint}, {until}",
        f"content:  {m.mime}, {m.size} bytes in {m.chunk_count} chunk{'' if m.chunk_count == 1 else 's'}",
        f"licence:  {licence_name(m.license)} <{m.license}>",
        f"work id:  {bundle.work_id.hex()}",
    ]


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify one bundle; exit 0 only if the whole chain holds."""
    trust = load_trust(args.trust)
    at = parse_date(args.at) if args.at else int(time.time())
    bundle = verified_bundle(args.bundle, trust, at)
    print(printable(f"{args.bundle}: OK, the signature chain, hashes and size all hold"))
    for line in summary_lines(bundle):
        print("  " + printable(line))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify``."""
    verify = subparsers.add_parser("verify", help="check a bundle's signatures and hashes")
    verify.add_argument("bundle", metavar="BUNDLE", help="a .meshart bundle file")
    add_trust_argument(verify)
    verify.add_argument("--at", metavar="DATE",
                        help="check the endorsement's validity on this date (YYYY-MM-DD) instead of today")
    verify.set_defaults(func=cmd_verify)
