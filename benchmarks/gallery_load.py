"""Load on the gallery's works page: a node holding 200 works, 50 concurrent clients.

The server runs in a subprocess (so its peak RSS is its own); this process drives it with an
aiohttp client and prints requests/s, p50/p99 latency, the page size and the server's peak RSS.

    .venv/bin/python benchmarks/gallery_load.py [--requests 20000] [--concurrency 50]

Goals on the project machine: >= 2000 requests/s, p99 <= 50 ms, peak RSS <= 64 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKS = 200
PARTIAL = 20


def write_works(path: Path) -> None:
    """200 signed works (20 of them only partly received), length-prefixed in one file."""
    from tests.factories import artist_key, make_bundle

    with path.open("wb") as out:
        for index in range(WORKS):
            bundle = make_bundle(2000 + 37 * index, f"bench-{index}", mime="image/jpeg",
                                 artist=artist_key(f"artist-{index % 12}"))
            data = bundle.to_bytes()
            partial = 1 if index < PARTIAL else 0
            out.write(struct.pack(">IB", len(data), partial) + data)


def serve(works_file: Path, port: int) -> None:
    """Subprocess entry: a gallery like the daemon's, holding the works, until killed."""
    from aiohttp import web

    from node.artwork import read_bundle
    from node.eventhub import EventHub
    from node.gallery.app import create_app
    from node.gallery.context import GalleryContext, NodeSelf
    from node.store.memory import MemoryStore
    from tests.factories import trust

    anchors = trust()
    store = MemoryStore()
    blob = works_file.read_bytes()
    offset = 0
    while offset < len(blob):
        length, partial = struct.unpack(">IB", blob[offset : offset + 5])
        bundle = read_bundle(blob[offset + 5 : offset + 5 + length], anchors)
        offset += 5 + length
        if partial:
            store.put_manifest(bundle.signed)
            for index, piece in enumerate(bundle.chunks()[::2]):
                store.put_chunk(bundle.work_id, index * 2, piece)
        else:
            store.ingest_bundle(bundle)

    async def ingest(data: bytes) -> bytes:
        raise RuntimeError("no uploads in the benchmark")

    node = NodeSelf(name="Mesh Art Node NEMO", venue="NEMO Science Museum", fingerprint="0000:0000:0000:0000",
                    position=(52.37406, 4.91237))
    ctx = GalleryContext(store=store, trust=anchors, events=EventHub(), ingest=ingest, node=node)

    async def main() -> None:
        runner = web.AppRunner(create_app(ctx), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("READY", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def load(url: str, total: int, concurrency: int) -> tuple[list[float], float, int, int]:
    """Fire ``total`` GETs from ``concurrency`` workers: latencies (s), elapsed (s), HTML and wire bytes."""
    import aiohttp

    latencies: list[float] = []
    remaining = total
    size = wire = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def one() -> None:
            nonlocal size, wire
            started = time.perf_counter()
            async with session.get(url, headers={"Accept-Language": "nl"}) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
            latencies.append(time.perf_counter() - started)
            size, wire = len(body), int(response.headers["Content-Length"])

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await one()

        for _ in range(200):  # warm-up: connections, caches
            await one()
        latencies.clear()
        remaining = total
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, size, wire


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve", nargs=2, metavar=("WORKS_FILE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        works_file = Path(tmp) / "works.bin"
        write_works(works_file)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(works_file), str(port)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "READY":
                raise SystemExit("server did not start")
            url = f"http://127.0.0.1:{port}/"
            latencies, elapsed, size, wire = asyncio.run(load(url, args.requests, args.concurrency))
            rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)

    ms = sorted(x * 1000 for x in latencies)
    print(f"works page, {WORKS} works held ({PARTIAL} partial), {args.concurrency} concurrent clients, "
          f"{len(ms)} requests")
    print(f"  page: {size / 1024:.1f} KiB of HTML, {wire / 1024:.1f} KiB gzip-compressed on the wire")
    print(f"  throughput : {len(ms) / elapsed:8.0f} requests/s   (goal >= 2000)")
    print(f"  latency p50: {statistics.median(ms):8.1f} ms")
    print(f"  latency p99: {ms[int(0.99 * (len(ms) - 1))]:8.1f} ms   (goal <= 50)")
    print(f"  server peak RSS: {rss:.1f} MB   (goal <= 64)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
