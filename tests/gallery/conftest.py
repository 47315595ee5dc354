"""Fixtures: a real daemon whose store holds works of every kind, and a test client on its gallery."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from node.artwork.bundle import Bundle
from node.daemon.runner import NodeDaemon
from node.gallery.app import create_app
from node.gallery.context import GalleryContext
from tests.gallery.artworks import audio_work, image_work, poem_work, svg_work
from tests.gallery.node import NEMO, running_nodes, seed_store


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


def fill_store(works: Works, data_dir: Path, now: float | None = None) -> None:
    """The complete works a minute apart (the first listed newest), then the partial one, now."""
    now = time.time() if now is None else now
    complete = works.complete()
    stamps = iter([now - 60 * (age + 1) for age in reversed(range(len(complete)))] + [now])
    seed_store(data_dir, reversed(complete), [(works.partial, works.partial_chunks)], clock=lambda: next(stamps))


@pytest_asyncio.fixture
async def daemon(works: Works, tmp_path: Path) -> AsyncIterator[NodeDaemon]:
    """A standalone node at NEMO (the real daemon, store and gallery context)."""
    fill_store(works, tmp_path / NEMO.id)
    async with running_nodes(tmp_path, [NEMO]) as nodes:
        yield nodes[NEMO.id]


@pytest.fixture
def ctx(daemon: NodeDaemon) -> GalleryContext:
    return daemon.gallery_context()


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


@pytest_asyncio.fixture
async def empty_ctx(tmp_path: Path) -> AsyncIterator[GalleryContext]:
    """The gallery context of a real node with an empty store and an engine (on a bus of its own)."""
    async with running_nodes(tmp_path, [NEMO], linked=True) as nodes:
        yield nodes[NEMO.id].gallery_context()
