import pytest

from tests.transport.broker import Mosquitto


@pytest.fixture
def broker(tmp_path):
    """A running Mosquitto broker on a free port, killed after the test."""
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()
