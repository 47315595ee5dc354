"""Whole daemons in this process (NodeDaemon on an in-memory bus), for faults a subprocess hides."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from node.config import load_config
from node.daemon.runner import NodeDaemon
from node.transport.memory import MemoryBus, MemoryTransport
from tests.factories import curator_key

ENGINE = "[engine]\ntrickle_imin_s = 0.5\ntrickle_doublings = 2\nrequest_retry_max_s = 2.0\n"


def node_config(tmp_path: Path, name: str, data_dir: Path | None = None, extra: str = ""):  # type: ignore[no-untyped-def]
    """A validated config: HTTP on a free port, the test curator trusted, fast engine timers."""
    path = tmp_path / f"{name}.toml"
    curator = curator_key().public.to_line().split()[-1]
    path.write_text(f'[node]\nname = "{name}"\ndata_dir = "{data_dir or tmp_path / name}"\ntrust = ["{curator}"]\n'
                    '[http]\nhost = "127.0.0.1"\nport = 0\n' + ENGINE + extra)
    return load_config(path)


@contextlib.asynccontextmanager
async def running(*daemons: NodeDaemon) -> AsyncIterator[None]:
    """Run the daemons until the block ends, then stop them cleanly (their errors re-raised)."""
    tasks = [asyncio.create_task(d.run()) for d in daemons]
    try:
        for daemon in daemons:
            await asyncio.wait_for(daemon.ready.wait(), 20)
        yield
    finally:
        for daemon in daemons:
            daemon.request_stop("test")
        await asyncio.wait_for(asyncio.gather(*tasks), 30)


def bus_pair(tmp_path: Path, a_dir: Path | None = None, b_dir: Path | None = None) -> tuple[NodeDaemon, NodeDaemon]:
    """Two daemons sharing one in-memory link."""
    bus = MemoryBus()
    a = NodeDaemon(node_config(tmp_path, "a", a_dir), [MemoryTransport("mem", bus, "a")])
    b = NodeDaemon(node_config(tmp_path, "b", b_dir), [MemoryTransport("mem", bus, "b")])
    return a, b


async def until(condition, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition()`` on the loop until true; AssertionError naming ``what`` on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def tiny_filesystem(path: Path, size_kib: int) -> Iterator[bool]:
    """A tmpfs of ``size_kib`` at ``path`` when this process may mount one (root); yields whether it did."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = False
    if os.geteuid() == 0:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
                                capture_output=True)
        mounted = result.returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


async def http_get(port: int, path: str, headers: str = "", source: str | None = None) -> tuple[str, bytes]:
    """A raw HTTP/1.0 GET (from loopback address ``source``, e.g. "127.0.0.2", to be another
    client than the tests' attackers): the head as text and the body as bytes."""
    local = (source, 0) if source else None
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n{headers}\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body
