"""Issue 17, item 7: one client on the gallery Wi-Fi cannot take the gallery from everyone else.

Real in-process daemons, real sockets. Each attacker connects from its own loopback address
(127.0.0.0/8 is all loopback on Linux), so the per-client counts see it as one client, and the
ordinary visitor comes from 127.0.0.2.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import re
import resource
from pathlib import Path

import pytest

from node.daemon.http import FD_HEADROOM, connection_cap
from node.daemon.logs import setup_logging
from node.daemon.runner import NodeDaemon
from node.gallery.clients import ClientLimits, ClientTable
from tests.factories import make_bundle
from tests.reliability.inprocess import http_get, node_config, running

pytestmark = pytest.mark.timeout(180)
VISITOR = "127.0.0.2"
ATTACKER = "127.0.0.9"
UNIT = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "mesh-art-node.service"


@pytest.fixture
def journal():
    """The daemon's own logging setup writing into a buffer (the test's handlers restored after)."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    setup_logging("info", buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


async def open_from(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def visitor_sees_gallery(port: int) -> None:
    for path in ("/", "/network", "/about"):
        head, _ = await asyncio.wait_for(http_get(port, path, source=VISITOR), 10)
        assert " 200 " in head.splitlines()[0], f"{path}: {head.splitlines()[0]}"


async def test_a_thousand_connections_from_one_phone_leave_the_gallery_answering(tmp_path, journal):
    daemon = NodeDaemon(node_config(tmp_path, "conn"))
    async with running(daemon):
        port = daemon.http_port
        assert port is not None
        clients = daemon_clients(daemon)
        held = [await open_from(port, ATTACKER) for _ in range(1020)]
        await asyncio.sleep(0.2)
        turned_away = 0
        for reader, _ in held:
            try:
                first = await asyncio.wait_for(reader.read(12), 0.05)
            except TimeoutError:
                continue  # admitted, waiting for a request head
            turned_away += first.startswith(b"HTTP/1.1 503")
        assert clients.connections.held(ATTACKER) == ClientLimits().connections_per_client
        assert turned_away == 1020 - ClientLimits().connections_per_client
        await visitor_sees_gallery(port)
        for _, writer in held:
            writer.close()
    refusals = journal.getvalue().count("connection refused")
    assert 0 < refusals <= 20, f"{refusals} log lines for one client's refused connections"
    assert len(journal.getvalue().splitlines()) < 100


def daemon_clients(daemon: NodeDaemon) -> ClientTable:
    """The running daemon's per-client table (the gallery's)."""
    assert daemon.http is not None
    return daemon.http.clients


async def read_status(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 10)
    return int(line.split()[1])


async def next_sse_event(reader: asyncio.StreamReader) -> str:
    """The name of the next event on a raw SSE stream (keep-alive comments skipped)."""
    while True:
        line = (await asyncio.wait_for(reader.readline(), 10)).decode()
        if line.startswith("event: "):
            return line[7:].strip()


async def open_stream(port: int, source: str) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await open_from(port, source)
    writer.write(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    return await read_status(reader), reader, writer


async def test_two_hundred_event_streams_from_one_phone_leave_live_updates_on_for_others(tmp_path):
    daemon = NodeDaemon(node_config(tmp_path, "sse"))
    async with running(daemon):
        port = daemon.http_port
        assert port is not None
        streams = [await open_stream(port, ATTACKER) for _ in range(200)]
        statuses = [status for status, _, _ in streams]
        assert statuses.count(200) == ClientLimits().streams_per_client
        assert statuses.count(503) == 200 - ClientLimits().streams_per_client
        status, reader, writer = await open_stream(port, VISITOR)
        assert status == 200
        await daemon.ingest(make_bundle(900, "live for everyone").to_bytes())
        assert await next_sse_event(reader) in ("work", "complete")
        writer.close()
        for _, _, attacker in streams:
            attacker.close()


async def trickle_upload(port: int, source: str, stop: asyncio.Event) -> str:
    """Send an upload head, then one body byte every 0.5 s; how the server ended it."""
    try:
        reader, writer = await open_from(port, source)
    except OSError as exc:
        return f"connect failed {exc}"
    writer.write(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                 b"Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"bundle\"; "
                 b"filename=\"w.meshart\"\r\n\r\n")
    answer = asyncio.ensure_future(reader.readline())
    try:
        while not stop.is_set():
            done, _ = await asyncio.wait([answer], timeout=0.5)
            if done:
                line = answer.result()
                return f"answered {int(line.split()[1])}" if line else "closed"
            writer.write(b"x")
            await writer.drain()
        return "still held"
    except ConnectionError:
        return "closed"
    finally:
        answer.cancel()
        writer.close()


async def test_three_hundred_trickling_upload_bodies_are_cut_off(tmp_path, monkeypatch):
    daemon = NodeDaemon(node_config(tmp_path, "trickle"))
    limits = ClientLimits(upload_deadline_s=3.0, upload_idle_s=2.0)  # the defaults are 60 s and 10 s
    build = daemon.gallery_context
    monkeypatch.setattr(daemon, "gallery_context", lambda: dataclasses.replace(build(), client_limits=limits))
    async with running(daemon):
        port = daemon.http_port
        assert port is not None
        stop = asyncio.Event()
        sources = [f"127.0.{2 + n // 200}.{n % 200 + 1}" for n in range(300)]  # 300 clients
        attackers = [asyncio.create_task(trickle_upload(port, source, stop)) for source in sources]
        await asyncio.sleep(0.5)
        await visitor_sees_gallery(port)
        done, pending = await asyncio.wait(attackers, timeout=40)
        stop.set()
        outcomes = [task.result() for task in done] + [await task for task in pending]
        head, _ = await http_get(port, "/upload", source=VISITOR)
        assert " 200 " in head.splitlines()[0]
        assert len(daemon_clients(daemon).uploads) == 0
    assert not pending, f"{len(pending)} trickling uploads still held after 40 s"
    assert outcomes.count("answered 408") == limits.uploads_total  # read until the body deadline
    assert outcomes.count("answered 503") == 300 - limits.uploads_total  # no upload place left


def test_the_unit_raises_the_descriptor_limit_above_the_gallerys_own_caps():
    match = re.search(r"^LimitNOFILE=(\d+)$", UNIT.read_text(), re.M)
    assert match, "the systemd unit leaves LimitNOFILE at the default 1,024"
    assert int(match.group(1)) >= 2 * (ClientLimits().connections_total + FD_HEADROOM)


def test_the_connection_cap_stays_under_a_low_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (768, hard))
    try:
        clients = ClientTable(ClientLimits())
        assert connection_cap(clients) == 768 - FD_HEADROOM
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert connection_cap(ClientTable(ClientLimits(connections_total=100))) == 100  # far under any limit: kept
