"""A power cut at any moment never leaves a work served as complete when it is not.

A subprocess writes to a SqliteStore without pause; the test SIGKILLs it at random moments,
reopens the store each time and checks every work against its manifest.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from node.artwork import chunks
from node.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 15


def check_store(data_dir: Path) -> tuple[int, int]:
    """Open the store and check every invariant; returns (complete, partial) counts."""
    store = SqliteStore(data_dir)  # runs PRAGMA quick_check; raises if the file is damaged
    try:
        complete = partial = 0
        for summary in store.summaries():
            m = summary.signed.manifest
            have = store.have_chunks(summary.work_id)
            assert summary.chunks_have == len(have) <= m.chunk_count
            for index in have:
                data = store.get_chunk(summary.work_id, index)
                assert data is not None and m.verify_chunk(index, data)
            content = store.content(summary.work_id)
            if summary.complete:
                complete += 1
                assert store.is_complete(summary.work_id)
                assert content is not None and len(content) == m.size
                assert chunks.content_hash(content) == m.content_hash
            else:
                partial += 1
                assert content is None and not store.is_complete(summary.work_id)
        assert store.verify_integrity() == []
        return complete, partial
    finally:
        store.close()


def kill_writer_once(data_dir: Path, seed: int, rng: random.Random) -> int:
    """Start the writer, let it run a random while, SIGKILL it; returns the operations it reported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", str(data_dir), str(seed)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.6))
        assert proc.poll() is None, "the writer stopped before it was killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        ops = sum(1 for line in proc.stdout if line.startswith("op "))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return ops


def test_kill_minus_nine_during_writes_never_leaves_a_false_complete(tmp_path: Path) -> None:
    rng = random.Random(2026)
    data_dir = tmp_path / "node"
    totals = [0, 0]
    for round_no in range(ROUNDS):
        kill_writer_once(data_dir, seed=round_no, rng=rng)
        complete, partial = check_store(data_dir)
        totals[0] += complete
        totals[1] += partial
    # The run must actually have exercised both states, or it proves nothing.
    assert totals[0] > 0 and totals[1] > 0
