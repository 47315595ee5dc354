"""Fixtures: a studio on a fresh folder behind an aiohttp test client."""

from __future__ import annotations

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from node.studio.app import create_app
from tests.studio.helpers import settings_for


@pytest_asyncio.fixture
async def studio(tmp_path):
    """A test client on a studio whose folder is ``tmp_path / 'home'``."""
    async with TestClient(TestServer(create_app(settings_for(tmp_path / "home")))) as client:
        yield client
