"""Fixtures shared by the test packages that run real brokers and daemons."""

import pytest

from tests.transport.broker import Mosquitto


@pytest.fixture
def broker(tmp_path):
    """A running Mosquitto broker on a free port, killed after the test."""
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def daemons():
    """Collects Daemon objects and kills any still running at the end."""
    started = []
    yield started
    for daemon in started:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
