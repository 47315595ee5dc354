"""Fixtures: a store filled with works of every kind, and an aiohttp test client on the gallery."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from node.artwork.bundle import Bundle
from node.gallery.app import create_app
from node.gallery.context import GalleryContext
from node.store.memory import MemoryStore
from tests.gallery.helpers import add_partial, audio_work, image_work, make_context, poem_work, svg_work


@dataclass
class Works:
    """The bundles a test store holds, by role."""

    images: list[Bundle]
    poem: Bundle
    audio: Bundle
    svg: Bundle
    partial: Bundle
    partial_chunks: int

    def complete(self) -> list[Bundle]:
        return [*self.images, self.poem, self.audio, self.svg]


@pytest.fixture(scope="session")
def works() -> Works:
    return Works(
        images=[image_work(seed) for seed in range(3)],
        poem=poem_work(), audio=audio_work(), svg=svg_work(),
        partial=image_work(42, size=320), partial_chunks=6,
    )


def fill_store(works: Works) -> MemoryStore:
    store = MemoryStore()
    now = time.time()
    for age, bundle in enumerate(works.complete()):
        store.ingest_bundle(bundle, now - 60 * (age + 1))
    add_partial(store, works.partial, works.partial_chunks, now)
    return store


@pytest.fixture
def ctx(works: Works) -> GalleryContext:
    return make_context(fill_store(works))


@pytest_asyncio.fixture
async def client(ctx: GalleryContext):
    async with TestClient(TestServer(create_app(ctx))) as test_client:
        yield test_client


@pytest.fixture
def make_client():
    """Make a test client for a context changed inside the test: ``async with maker(ctx) as client``."""

    def make(context: GalleryContext) -> TestClient:
        return TestClient(TestServer(create_app(context)))

    return make
