"""``mesh-art ingest`` and ``mesh-art works``: put bundles into a node's store and list it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from node.artwork.keys import PublicKey
from node.cli import CommandError, add_data_dir_argument, add_trust_argument
from node.cli.terminal import printable, printable_lines
from node.cli.verify import load_trust, verified_bundle
from node.store.base import StoreError, WorkSummary
from node.store.sqlite import SqliteStore


def open_store(data_dir: str, *, create: bool) -> SqliteStore:
    """The SQLite store in ``data_dir``; refuses to invent an empty one for read-only commands."""
    path = Path(data_dir)
    if not create and not path.is_dir():
        raise CommandError(f"no data directory {path}")
    try:
        return SqliteStore(path)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def cmd_ingest(args: argparse.Namespace) -> int:
    """Verify bundles and store them; keeps going past bad ones, exit 1 if any failed."""
    trust = load_trust(args.trust)
    store = open_store(args.data_dir, create=True)
    failures = 0
    try:
        for path in args.bundles:
            try:
                # Validity is judged at the work's creation time, as on the mesh (no --at):
                # works published while the artist was endorsed stay valid afterwards.
                bundle = verified_bundle(path, trust, at=None)
                new = store.ingest_bundle(bundle)
            except CommandError as exc:
                print(f"mesh-art: error: {printable(exc)}", file=sys.stderr)
                failures += 1
                continue
            except StoreError as exc:
                print(printable(f"mesh-art: error: {path}: not stored ({exc.reason}: {exc})"), file=sys.stderr)
                failures += 1
                continue
            title = bundle.signed.manifest.text(bundle.signed.manifest.title, "en")
            state = "stored" if new else "already held"
            print(printable(f"{path}: {state} {bundle.work_id.hex()[:16]} “{title}”"))
    finally:
        store.close()
    return 1 if failures else 0


def _row(summary: WorkSummary) -> dict[str, Any]:
    m = summary.signed.manifest
    return {
        "work_id": summary.work_id.hex(),
        "title": m.text(m.title, "en"),
        "artist": m.creator,
        "artist_key": PublicKey(m.artist).fingerprint,
        "mime": m.mime,
        "size": m.size,
        "chunks_have": summary.chunks_have,
        "chunks_total": summary.chunks_total,
        "complete": summary.complete,
    }


def cmd_works(args: argparse.Namespace) -> int:
    """List the works a node holds, with completeness."""
    store = open_store(args.data_dir, create=False)
    try:
        rows = [_row(s) for s in store.summaries()]
        taken_down = [t.work_id.hex() for t in store.takedowns()]
    finally:
        store.close()
    if args.json:
        print(printable_lines(json.dumps({"works": rows, "taken_down": taken_down}, indent=2, ensure_ascii=False)))
        return 0
    if not rows:
        print("no works stored")
    else:
        print(f"{'work id':<16}  {'chunks':>9}  {'state':<8}  {'artist':<20}  title")
        for r in rows:
            chunks = f"{r['chunks_have']}/{r['chunks_total']}"
            state = "complete" if r["complete"] else "partial"
            artist = printable(r["artist"])[:20]
            print(f"{r['work_id'][:16]:<16}  {chunks:>9}  {state:<8}  {artist:<20}  {printable(r['title'])}")
    if taken_down:
        print(f"{len(taken_down)} work(s) taken down and refused")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ingest`` and ``works``."""
    ingest = subparsers.add_parser("ingest", help="verify bundles and add them to a node's store")
    ingest.add_argument("bundles", nargs="+", metavar="BUNDLE")
    add_data_dir_argument(ingest)
    add_trust_argument(ingest)
    ingest.set_defaults(func=cmd_ingest)
    works = subparsers.add_parser("works", help="list the works in a node's store")
    add_data_dir_argument(works)
    works.add_argument("--json", action="store_true", help="machine-readable output with full work ids")
    works.set_defaults(func=cmd_works)
