"""Short power-cut run: kill -9 the daemon during a transfer, an ingest and a takedown."""

import pytest

from tests.reliability.power_cuts import TAKEDOWNS_PER_CYCLE, PowerCutRun

pytestmark = pytest.mark.timeout(240)


def test_kill_nine_during_transfer_ingest_and_takedown(tmp_path, broker, daemons):
    run = PowerCutRun(tmp_path, broker, seed=9)
    daemons += run.daemons()
    run.start()
    tally = run.run(cycles=5)
    print(tally.report("power cuts"))
    assert tally["kills"] == 5 and tally["restarts"] == 5
    assert tally["crashed"] == 0 and tally["store-check-failed"] == 0 and tally["integrity-demoted"] == 0
    assert tally["transfers-resumed-and-complete"] == 2
    assert tally["transfer-cut-partial-on-disk"] >= 1  # the cut really fell inside a transfer
    assert tally["acknowledged-uploads-lost"] == 0 and tally["cut-upload-left-partial"] == 0
    assert tally["uploads-acknowledged"] >= 2 and tally["uploads-cut"] >= 1
    assert tally["takedowns-held-after-restart"] == TAKEDOWNS_PER_CYCLE
    assert tally["complete-works-lost"] == 0 and tally["takedowns-lost"] == 0
    assert tally["works-served-at-end"] == len(run.kept) > 0
