"""Long power-cut run: ``kill -9`` the daemon N times during transfers, ingests and takedowns.

Runs :class:`tests.reliability.power_cuts.PowerCutRun` (the same code as the short test) against
a real Mosquitto broker and prints every counter::

    .venv/bin/python benchmarks/reliability_power_cuts.py [--kills 210] [--seed 1]

Exit status 1 when any invariant was broken (lost, demoted, crashed or not resumed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BAD = ("crashed", "store-check-failed", "integrity-demoted", "complete-works-lost", "acknowledged-uploads-lost",
       "cut-upload-left-partial", "transfers-not-resumed", "takedowns-not-converged", "takedowns-lost",
       "restart-failed")


def main() -> int:
    """Run the kills and print the tally."""
    from tests.reliability.power_cuts import PowerCutRun
    from tests.transport.broker import Mosquitto

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=210)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp))
        broker.start()
        run = PowerCutRun(Path(tmp), broker, args.seed)
        try:
            run.start()
            try:
                tally = run.run(args.kills, progress=True)
            except AssertionError as exc:
                tally = run.tally
                tally.notes.append(f"run stopped: {exc}")
        finally:
            for daemon in run.daemons():
                if daemon.process is not None and daemon.process.poll() is None:
                    daemon.process.kill()
                    daemon.process.wait()
            broker.stop()
    print(tally.report(f"power cuts: {args.kills} kills requested, seed {args.seed}, "
                       f"{time.monotonic() - started:.0f} s"))
    return 1 if any(tally[name] for name in BAD) or tally["kills"] < args.kills else 0


if __name__ == "__main__":
    raise SystemExit(main())
