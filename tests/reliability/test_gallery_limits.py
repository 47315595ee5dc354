"""Oversize uploads are refused with 413 and bounded memory; slow-loris clients do not starve others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.daemon import http as daemon_http
from node.daemon.runner import NodeDaemon
from tests.factories import make_bundle
from tests.reliability.inprocess import http_get, node_config, running

pytestmark = pytest.mark.timeout(120)
MIB = 1024 * 1024


def rss_mib() -> float:
    """Resident memory of this process (the daemon runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def push_upload(port: int, size: int, chunked: bool) -> int:
    """Stream a ``size``-byte multipart upload until the server answers; its status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    boundary = "xyz"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="big.meshart"\r\n\r\n'.encode()
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(head) + size}"
    writer.write(f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
                 f"boundary={boundary}\r\n{length}\r\n\r\n".encode())
    block = b"\x00" * 65536
    sent = 0
    answer = asyncio.ensure_future(reader.readline())
    try:
        for piece in [head] + [block] * (size // len(block)):
            if answer.done():
                break
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            sent += len(piece)
            try:
                await writer.drain()
            except ConnectionError:
                break
        status_line = await asyncio.wait_for(answer, 20)
    finally:
        writer.close()
    return int(status_line.split()[1])


async def test_oversize_uploads_are_413_and_memory_stays_bounded(tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "big", extra=""))
    async with running(daemon):
        port = daemon.http_port
        statuses = [await push_upload(port, 2 * MIB, chunked=i % 2 == 1) for i in range(2)]  # warm up
        before = rss_mib()
        for index in range(16):  # 16 x 12 MiB offered: 192 MiB against a 512 KiB limit
            statuses.append(await push_upload(port, 12 * MIB, chunked=index % 2 == 1))
        growth = rss_mib() - before
        head, _ = await http_get(port, "/")
        assert " 200 " in head.splitlines()[0]
        assert daemon.store.work_ids() == []
    assert set(statuses) == {413}
    assert growth < 24, f"RSS grew {growth:.1f} MiB while refusing 192 MiB of uploads"


async def slow_client(port: int, stop: asyncio.Event, source: str) -> str:
    """Trickle a header value one byte every 0.3 s and never finish the head; how it ended.

    (One byte at a time stays far below aiohttp's own limits of 128 header lines and 8 KiB per
    line, which would otherwise end the attack after some minutes.)"""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    try:
        while not stop.is_set():
            writer.write(b"1")
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 0.3) == b"":
                    return "closed-by-server"
            except TimeoutError:
                continue
        return "still-open"
    except ConnectionError:
        return "closed-by-server"
    finally:
        writer.close()


async def slow_body_upload(port: int, data: bytes) -> int:
    """A legitimate upload (from its own address) whose head is quick but whose body trickles in for ~2.5 s."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.3", 0))
    boundary = "slowbody"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="bundle"; filename="w.meshart"\r\n\r\n'.encode()
            + data + f"\r\n--{boundary}--\r\n".encode())
    writer.write(f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
                 f"multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n".encode())
    step = len(body) // 10 + 1
    for start in range(0, len(body), step):
        writer.write(body[start:start + step])
        await writer.drain()
        await asyncio.sleep(0.25)
    status_line = await asyncio.wait_for(reader.readline(), 20)
    writer.close()
    return int(status_line.split()[1])


async def test_slow_loris_clients_are_cut_off_and_others_are_served(tmp_path, monkeypatch):
    monkeypatch.setattr(daemon_http, "KEEPALIVE_TIMEOUT_S", 1.5)
    daemon = NodeDaemon(node_config(tmp_path, "loris"))
    async with running(daemon):
        port = daemon.http_port
        stop = asyncio.Event()
        # 300 connections from 10 addresses, each within the per-client connection cap
        attackers = [asyncio.create_task(slow_client(port, stop, f"127.0.1.{n % 10 + 1}")) for n in range(300)]
        await asyncio.sleep(0.5)
        upload = asyncio.create_task(slow_body_upload(port, make_bundle(4000, "slow-body").to_bytes()))
        served = []
        for _ in range(20):  # ordinary visitors while 300 connections hang in their headers
            head, _ = await asyncio.wait_for(http_get(port, "/", source="127.0.0.2"), 10)
            served.append(head.splitlines()[0])
        outcomes = await asyncio.wait_for(asyncio.gather(*attackers), 30)
        stop.set()
        assert await upload == 303  # a slow body is fine within the body deadline
    assert all(" 200 " in line for line in served)
    assert outcomes.count("closed-by-server") == 300
