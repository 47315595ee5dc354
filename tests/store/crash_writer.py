"""Subprocess for the kill -9 test: writes to a SqliteStore forever until it is killed.

Usage: ``python -m tests.store.crash_writer DATA_DIR SEED``. Prints ``ready`` once the store is
open, then loops: ingest whole bundles, feed other works chunk by chunk in random order, and
delete works now and then so the loop keeps writing. Prints one ``op N`` line per operation
so the test can see that writes were in flight.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from node.store import Quotas, SqliteStore
from tests.factories import make_bundle

SIZES = (224, 3000, 20_000, 45_000, 60_000)


def main(data_dir: str, seed: int) -> None:
    """Run until killed."""
    rng = random.Random(seed)
    bundles = [make_bundle(SIZES[i % len(SIZES)], f"crash-{i}") for i in range(8)]
    store = SqliteStore(Path(data_dir), Quotas(total_bytes=10**9, per_artist_bytes=10**9))
    print("ready", flush=True)
    op = 0
    while True:
        bundle = rng.choice(bundles)
        action = rng.random()
        if action < 0.4:
            store.ingest_bundle(bundle)
        elif action < 0.9:
            store.put_manifest(bundle.signed)
            pieces = list(enumerate(bundle.chunks()))
            rng.shuffle(pieces)
            for index, piece in pieces[: rng.randint(1, len(pieces))]:
                store.put_chunk(bundle.work_id, index, piece)
        else:
            store.delete_work(bundle.work_id)
        op += 1
        print(f"op {op}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
