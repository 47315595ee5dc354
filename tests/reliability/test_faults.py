"""Short fault runs: one broker restart and a few radio drops, each mid-transfer."""

import pytest

from tests.reliability.faults import broker_restarts, radio_drops

pytestmark = pytest.mark.timeout(240)


def test_broker_restart_mid_transfer_loses_nothing(tmp_path, broker):
    tally = broker_restarts(tmp_path, broker, restarts=1)
    print(tally.report("broker restarts"))
    assert tally["broker-restarts"] == 1 and tally["faults-mid-transfer"] == 1
    assert tally["works-delivered"] == tally["works-sent"] == 1
    assert tally["works-lost"] == 0 and tally["crashed"] == 0 and tally["unclean-exits"] == 0
    assert tally["sink-mqtt-reconnects"] >= 1 and tally["integrity-demoted"] == 0


def test_radio_connection_dropped_mid_transfer_loses_nothing(tmp_path):
    tally = radio_drops(tmp_path, drops=3)
    print(tally.report("radio drops"))
    assert tally["reconnected-after-drop"] == 3 and tally["faults-mid-transfer"] >= 1
    assert tally["works-delivered"] == tally["works-sent"] >= 1
    assert tally["works-lost"] == 0 and tally["crashed"] == 0 and tally["unclean-exits"] == 0
