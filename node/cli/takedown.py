"""``mesh-art takedown`` (curator signs) and ``mesh-art ingest-takedown`` (a node applies)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from node.artwork.bundle import MAGIC
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.manifest import parse_manifest
from node.artwork.takedown import Takedown, verify_takedown
from node.cli import CommandError, add_data_dir_argument, add_trust_argument
from node.cli.passphrase import read_secret
from node.cli.store_cmds import open_store
from node.cli.verify import load_trust, read_file


def resolve_work_id(spec: str) -> bytes:
    """A full 64-hex work id, or the work id of a ``.meshart`` bundle file."""
    path = Path(spec)
    if path.is_file():
        data = read_file(spec)
        if data[: len(MAGIC)] != MAGIC:
            raise CommandError(f"{spec} is not a mesh-art bundle")
        manifest_len = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
        start = len(MAGIC) + 4
        try:
            return parse_manifest(data[start : start + manifest_len]).work_id
        except VerificationError as exc:
            raise CommandError(f"{spec}: cannot read the bundle's manifest ({exc})") from None
    try:
        work_id = bytes.fromhex(spec)
    except ValueError:
        work_id = b""
    if len(work_id) != 32:
        raise CommandError(f"{spec!r} is neither a bundle file nor a full 64-hex-digit work id "
                           "(see `mesh-art works --json`)")
    return work_id


def cmd_takedown(args: argparse.Namespace) -> int:
    """Sign a takedown of one work with the curator key."""
    work_id = resolve_work_id(args.work)
    try:
        curator = read_secret(Path(args.curator), "curator")
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    takedown = Takedown.create(curator, work_id, args.reason, int(time.time()))
    if takedown.reason != args.reason:
        raise CommandError(f"the reason is too long to fit one radio frame; at most {len(takedown.reason)} "
                           f"characters like these, e.g. {takedown.reason!r}")
    data = takedown.to_bytes()
    Path(args.out).write_bytes(data)
    print(f"takedown of {work_id.hex()[:16]} signed by curator {curator.public.fingerprint} ({len(data)} bytes)")
    print(f"written to {args.out}; give it to a node with `mesh-art ingest-takedown` and the mesh spreads it")
    return 0


def cmd_ingest_takedown(args: argparse.Namespace) -> int:
    """Verify a takedown and apply it to a node's store."""
    trust = load_trust(args.trust)
    try:
        takedown = verify_takedown(read_file(args.file, "takedown"), trust)
    except VerificationError as exc:
        raise CommandError(f"{args.file}: REJECTED {exc.reason}: {exc.message}") from None
    store = open_store(args.data_dir, create=True)
    try:
        held = store.get_manifest(takedown.work_id) is not None
        new = store.apply_takedown(takedown)
    finally:
        store.close()
    short = takedown.work_id.hex()[:16]
    if not new:
        print(f"takedown of {short} was already recorded")
    else:
        print(f"takedown of {short} recorded{'; the work was deleted' if held else ''}; it will be refused from now on")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``takedown`` and ``ingest-takedown``."""
    sign = subparsers.add_parser("takedown", help="curator: sign the removal of a work")
    sign.add_argument("work", metavar="WORK", help="full work id (64 hex digits) or the work's .meshart bundle")
    sign.add_argument("--curator", required=True, help="curator private key file (plain or encrypted)")
    sign.add_argument("--reason", default="",
                      help="short public reason; it must fit one radio frame (about 50 characters)")
    sign.add_argument("--out", required=True, help="takedown file to write")
    sign.set_defaults(func=cmd_takedown)
    apply = subparsers.add_parser("ingest-takedown", help="verify a takedown and apply it to a node's store")
    apply.add_argument("file", metavar="FILE", help="a takedown file from `mesh-art takedown`")
    add_data_dir_argument(apply)
    add_trust_argument(apply)
    apply.set_defaults(func=cmd_ingest_takedown)
