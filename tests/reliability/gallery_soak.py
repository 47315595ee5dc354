"""Hold the gallery load benchmark (200 works, many concurrent clients) and sample the server's RSS.

The server is ``benchmarks/gallery_load.py``'s subprocess (a gallery like the daemon's holding
200 works); clients fetch the works page, work pages, cards and previews in a loop. RSS is
sampled from /proc every ``sample_every`` seconds. "Flat" means the last samples are not
above the first samples taken after the warm-up by more than a small margin.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_SCRIPT = ROOT / "benchmarks" / "gallery_load.py"


@dataclass
class SoakResult:
    """Requests served, errors, and RSS samples ``(seconds since start, MiB)``."""

    requests: int = 0
    errors: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)

    def growth_mib(self, warmup_s: float) -> float:
        """Mean RSS of the last quarter of samples minus that of the first quarter after warm-up."""
        steady = [mib for at, mib in self.samples if at >= warmup_s]
        quarter = max(1, len(steady) // 4)
        return sum(steady[-quarter:]) / quarter - sum(steady[:quarter]) / quarter


def rss_mib(pid: int) -> float:
    """Current resident set of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def work_ids(works_file: Path) -> list[str]:
    """Ids of the works in the benchmark's works file."""
    from node.artwork.bundle import read_bundle
    from tests.factories import trust

    anchors = trust()
    ids, blob, offset = [], works_file.read_bytes(), 0
    while offset < len(blob):
        length, _ = struct.unpack(">IB", blob[offset:offset + 5])
        ids.append(read_bundle(blob[offset + 5:offset + 5 + length], anchors).work_id.hex())
        offset += 5 + length
    return ids


async def drive(base: str, ids: list[str], pid: int, duration_s: float, concurrency: int,
                sample_every: float, result: SoakResult, progress: bool) -> None:
    """Run ``concurrency`` clients for ``duration_s`` while sampling RSS."""
    import aiohttp

    loop = asyncio.get_running_loop()
    start = loop.time()
    paths = ["/", "/?lang=en", "/network", "/about"] + [f"/works/{i}" for i in ids[::5]] + \
        [f"/cards/{i}" for i in ids[1::7]] + [f"/preview/{i}" for i in ids[2::9]] + [f"/media/{i}" for i in ids[3::11]]

    async def client(number: int) -> None:
        async with aiohttp.ClientSession() as session:
            turn = number
            while loop.time() - start < duration_s:
                turn += 1
                try:
                    async with session.get(base + paths[turn % len(paths)]) as response:
                        await response.read()
                        ok = response.status in (200, 404)  # partial works have no /media yet
                except aiohttp.ClientError:
                    ok = False
                result.requests += 1
                result.errors += 0 if ok else 1

    async def sampler() -> None:
        while (elapsed := loop.time() - start) < duration_s:
            result.samples.append((round(elapsed, 1), round(rss_mib(pid), 1)))
            if progress:
                print(f"  t={elapsed:6.0f} s  rss={result.samples[-1][1]:6.1f} MiB  requests={result.requests}",
                      flush=True)
            await asyncio.sleep(sample_every)

    await asyncio.gather(sampler(), *(client(n) for n in range(concurrency)))


def soak(duration_s: float, concurrency: int = 50, sample_every: float = 1.0, progress: bool = False) -> SoakResult:
    """Start the benchmark's gallery server, load it for ``duration_s``, return the counts."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import gallery_load  # benchmarks/gallery_load.py: works file and server

    result = SoakResult()
    with tempfile.TemporaryDirectory() as tmp:
        works_file = Path(tmp) / "works.bin"
        gallery_load.write_works(works_file)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([sys.executable, str(LOAD_SCRIPT), "--serve", str(works_file), str(port)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            if server.stdout.readline().strip() != "READY":
                raise RuntimeError("gallery server did not start")
            asyncio.run(drive(f"http://127.0.0.1:{port}", work_ids(works_file), server.pid, duration_s,
                              concurrency, sample_every, result, progress))
        finally:
            server.terminate()
            server.wait(10)
    return result


if __name__ == "__main__":  # pragma: no cover - quick manual run
    started = time.monotonic()
    print(soak(5.0, progress=True), time.monotonic() - started)
