"""``mesh-art revoke`` (curator signs) and ``mesh-art ingest-revocation`` (a node applies).

A revocation stops the mesh trusting one artist key (its works are removed everywhere and new
ones refused, whatever date they claim) or one node key (its beacons are ignored).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import fingerprint, load_public
from node.artwork.revocation import ROLES, Revocation, verify_revocation
from node.cli import CommandError, add_data_dir_argument, add_trust_argument
from node.cli.passphrase import read_secret
from node.cli.store_cmds import open_store
from node.cli.verify import load_trust, read_file
from node.files import write_new_file


def cmd_revoke(args: argparse.Namespace) -> int:
    """Sign a revocation of one artist or node key with the curator key."""
    try:
        key = load_public(args.key)
        curator = read_secret(Path(args.curator), "curator")
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    role = args.role or key.role
    if role not in ROLES:
        raise CommandError(f"say which key this is: --role artist or --role node (the key file names {role!r})")
    if key.role is not None and key.role != role:
        raise CommandError(f"{args.key} is a {key.role} key, not a {role} key")
    try:
        revocation = Revocation.create(curator, key, role, args.reason, int(time.time()))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if revocation.reason != args.reason:
        raise CommandError(f"the reason is too long to fit one radio frame; at most {len(revocation.reason)} "
                           f"characters like these, e.g. {revocation.reason!r}")
    data = revocation.to_bytes()
    try:
        write_new_file(Path(args.out), data, replace=True)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"revocation of {role} key {key.fingerprint} signed by curator {curator.public.fingerprint} "
          f"({len(data)} bytes)")
    print(f"written to {args.out}; give it to a node with `mesh-art ingest-revocation` and the mesh spreads it")
    return 0


def cmd_ingest_revocation(args: argparse.Namespace) -> int:
    """Verify a revocation and apply it to a node's store."""
    trust = load_trust(args.trust)
    try:
        revocation = verify_revocation(read_file(args.file, "revocation"), trust)
    except VerificationError as exc:
        raise CommandError(f"{args.file}: REJECTED {exc.reason}: {exc.message}") from None
    store = open_store(args.data_dir, create=True)
    try:
        known = store.is_revoked(revocation.key)
        gone = store.apply_revocation(revocation)
    finally:
        store.close()
    what = f"{revocation.role} key {fingerprint(revocation.key)}"
    if known:
        print(f"revocation of {what} was already recorded")
    else:
        removed = f"; {len(gone)} of its works deleted" if gone else ""
        print(f"revocation of {what} recorded{removed}; it will be refused from now on")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``revoke`` and ``ingest-revocation``."""
    sign = subparsers.add_parser("revoke", help="curator: sign the revocation of an artist or node key")
    sign.add_argument("key", metavar="KEY", help="the key to revoke: its .pub file, or the bare base64 key")
    sign.add_argument("--role", choices=ROLES, help="artist or node (default: the role the .pub file names)")
    sign.add_argument("--curator", required=True, help="curator private key file (plain or encrypted)")
    sign.add_argument("--reason", default="",
                      help="short public reason; it must fit one radio frame (about 40 characters)")
    sign.add_argument("--out", required=True, help="revocation file to write")
    sign.set_defaults(func=cmd_revoke)
    apply = subparsers.add_parser("ingest-revocation", help="verify a revocation and apply it to a node's store")
    apply.add_argument("file", metavar="FILE", help="a revocation file from `mesh-art revoke`")
    add_data_dir_argument(apply)
    add_trust_argument(apply)
    apply.set_defaults(func=cmd_ingest_revocation)
