"""Fuzzing the gallery upload (``POST /upload``) through aiohttp's test client: mutated bundles in
a well-formed form, and mutated raw multipart bodies. Every answer is the upload page with a 4xx
status or the redirect to the stored work; never a 500."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import pytest_asyncio
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from node.gallery.app import create_app
from tests.fuzz.corpus import load
from tests.fuzz.mutate import Mutator
from tests.gallery.node import NEMO, running_nodes


@pytest_asyncio.fixture
async def node_ctx(tmp_path):
    """The gallery context of a real daemon (engine and SQLite store)."""
    async with running_nodes(tmp_path, [NEMO], linked=True) as nodes:
        yield nodes[NEMO.id].gallery_context()

# mutated multipart headers are the point of these tests; aiohttp warns about each one
pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.multipart.BadContentDispositionHeader",
                                        "ignore::aiohttp.multipart.BadContentDispositionParam")

CLEAN = {303, 400, 413, 422, 409}
BOUNDARY = "fuzzboundary1234"


def form(data: bytes, field: str = "bundle") -> FormData:
    out = FormData()
    out.add_field(field, data, filename="work.meshart", content_type="application/octet-stream")
    return out


def raw_multipart(data: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"w.meshart\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_mutated_bundles_are_refused_cleanly_or_stored_verified(node_ctx):
    ctx = replace(node_ctx, upload_limit_bytes=64 * 1024)
    bundles = load("bundles")
    mutator = Mutator(random.Random(21), bundles, max(map(len, bundles)) + 64)
    statuses: list[int] = []
    async with TestClient(TestServer(create_app(ctx))) as client:
        for data in [*bundles, *mutator.stream(250)]:
            response = await client.post("/upload?lang=en", data=form(data), allow_redirects=False)
            await response.read()
            statuses.append(response.status)
    assert set(statuses) <= CLEAN, sorted(set(statuses))
    assert statuses.count(303) >= len(bundles) and statuses.count(422) > 150
    for work_id in ctx.store.work_ids():  # only verified works were stored
        assert ctx.store.is_complete(work_id)


async def test_mutated_raw_multipart_bodies_never_give_a_server_error(node_ctx):
    ctx = replace(node_ctx, upload_limit_bytes=64 * 1024)
    bodies = [raw_multipart(b) for b in load("bundles")] + [raw_multipart(b"x" * 10)]
    mutator = Mutator(random.Random(22), bodies, max(map(len, bodies)) + 256)
    content_types = [f"multipart/form-data; boundary={BOUNDARY}", "multipart/form-data",
                     "multipart/form-data; boundary=", "multipart/mixed; boundary=x", "text/plain",
                     "multipart/form-data; boundary=\"a b\""]
    rng = random.Random(23)
    statuses: list[int] = []
    async with TestClient(TestServer(create_app(ctx))) as client:
        for i, body in enumerate(mutator.stream(300)):
            headers = {"Content-Type": content_types[0] if i % 3 else rng.choice(content_types)}
            response = await client.post("/upload?lang=nl", data=body, headers=headers, allow_redirects=False)
            await response.read()
            statuses.append(response.status)
    assert set(statuses) <= CLEAN, sorted(set(statuses))
    assert statuses.count(400) > 0 and statuses.count(422) > 0


async def test_broken_multipart_bodies_are_400_not_500(node_ctx):
    """Regression (fuzz): a body without its starting boundary (ValueError) or with a damaged part
    header (aiohttp InvalidHeader) escaped the upload handler as a 500."""
    ctx = node_ctx
    good = raw_multipart(b"x" * 10)
    broken = [good.replace(f"--{BOUNDARY}\r\n".encode(), b"", 1), good.replace(b"Content-Type:", b"Content-Type", 1),
              good.replace(b"Content-Disposition:", b"Content-Dispo\x9c:", 1), good[: len(good) // 2]]
    async with TestClient(TestServer(create_app(ctx))) as client:
        for body in broken:
            response = await client.post("/upload?lang=en", data=body, allow_redirects=False,
                                         headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            assert response.status == 400, (body, response.status)
