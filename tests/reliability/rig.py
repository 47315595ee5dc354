"""Shared pieces of the reliability runs: daemons on one broker, uploads, store checks, counts.

The short tests (``tests/reliability/test_*.py``) and the long runs (``benchmarks/reliability_*.py``)
use the same code with different counts, so the figures in docs/RELIABILITY.md come from exactly
what the test suite exercises.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from node.artwork import chunks
from node.artwork.bundle import Bundle
from node.store.sqlite import SqliteStore
from tests.daemon.harness import Daemon, mqtt_section, write_config
from tests.factories import artist_key, make_bundle


@dataclass
class Tally:
    """Named counters of one run, printed as ``name: value`` lines."""

    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        """Count ``amount`` more of ``name``."""
        self.counts[name] += amount

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    def report(self, title: str) -> str:
        """The counters as aligned lines under ``title``."""
        width = max((len(k) for k in self.counts), default=0)
        lines = [title] + [f"  {name.ljust(width)} : {value}" for name, value in sorted(self.counts.items())]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def fresh_bundle(label: str, size: int, artist_index: int = 0) -> Bundle:
    """A new signed work; artists rotate so per-artist quotas never bind in long runs."""
    return make_bundle(size, label, artist=artist_key(f"rel-{artist_index % 40}"))


IP_CONTROL_LIMITS = "neighbour_control_burst = 400\nneighbour_control_per_min = 2400.0\n"
"""Appended to the ``[engine]`` section of the MQTT runs. With the default per-neighbour control
limiter (12 frames, then 20 a minute, on IP links too) a restarted node's retained adverts and
requests exhaust its neighbour's bucket and each cycle stalls for about a minute; the kill runs
measure crash safety, so they lift it (the stall is reported in docs/RELIABILITY.md)."""


def mqtt_daemon(tmp: Path, name: str, broker_port: int, rate: float, seed: Bundle | None = None,
                extra: str = "") -> Daemon:
    """A daemon config on the test broker (fast engine timers), its data dir optionally seeded."""
    data = tmp / name
    data.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        store = SqliteStore(data)
        store.ingest_bundle(seed)
        store.close()
    section = mqtt_section(broker_port, rate) + IP_CONTROL_LIMITS  # [engine] is the section's last table
    return Daemon(write_config(tmp / f"{name}.toml", data, section + extra), data)


def upload(url: str, bundle_bytes: bytes, timeout: float = 10.0) -> int:
    """POST a bundle to a gallery's /upload; the HTTP status (303 means stored)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"w.meshart\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    body = head.encode() + bundle_bytes + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Status and body of a GET (errors are statuses, not exceptions)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


@dataclass
class StoreCheck:
    """What a store looked like after a crash."""

    complete: set[bytes]
    partial: set[bytes]
    taken_down: set[bytes]
    demoted: list[bytes]


def check_store(data_dir: Path) -> StoreCheck:
    """Open the store (quick_check), verify it, and assert no incomplete work looks complete."""
    store = SqliteStore(data_dir)
    try:
        complete, partial = set(), set()
        for summary in store.summaries():
            m = summary.signed.manifest
            content = store.content(summary.work_id)
            if summary.complete:
                assert content is not None and chunks.content_hash(content) == m.content_hash, "false complete"
                complete.add(summary.work_id)
            else:
                assert content is None, "an incomplete work has content"
                partial.add(summary.work_id)
        taken = {t.work_id for t in store.takedowns()}
        assert not taken & (complete | partial), "a taken-down work is still stored"
        demoted = store.verify_integrity()
        return StoreCheck(complete, partial, taken, demoted)
    finally:
        store.close()


def served_correctly(daemon: Daemon, bundle: Bundle) -> bool:
    """The daemon's gallery serves exactly the bundle's content for its work."""
    status, body = http_get(f"{daemon.url}/media/{bundle.work_id.hex()}")
    return status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(bundle.content).digest()


def work_state(daemon: Daemon, work_id: bytes) -> str:
    """``complete``, ``partial``, ``gone`` (taken down) or ``absent``, as the gallery shows it."""
    status, _ = http_get(f"{daemon.url}/works/{work_id.hex()}")
    if status == 410:
        return "gone"
    if status == 404:
        return "absent"
    media, _ = http_get(f"{daemon.url}/media/{work_id.hex()}")
    return "complete" if media == 200 else "partial"


def wait_for(condition, timeout: float, interval: float = 0.1, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition()`` until true; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def dump(obj: object) -> str:
    """Compact JSON for failure messages."""
    return json.dumps(obj, default=str)[:2000]
