"""Long fault runs: the MQTT broker restarted N times and the radio's TCP link dropped M times,
each while a work is in flight between two real daemons. Prints every counter::

    .venv/bin/python benchmarks/reliability_faults.py [--broker-restarts 20] [--radio-drops 50]

Exit status 1 when a work was lost or a daemon crashed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run both fault series and print their tallies."""
    from tests.reliability.faults import broker_restarts, radio_drops
    from tests.transport.broker import Mosquitto

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker-restarts", type=int, default=20)
    parser.add_argument("--radio-drops", type=int, default=50)
    parser.add_argument("--keep", metavar="DIR", help="run the radio drops in DIR and keep the daemons' logs")
    args = parser.parse_args()
    failed = False
    if args.broker_restarts:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            broker = Mosquitto(Path(tmp))
            broker.start()
            try:
                tally = broker_restarts(Path(tmp), broker, args.broker_restarts)
            finally:
                broker.stop()
        print(tally.report(f"MQTT broker restarted {args.broker_restarts} times ({time.monotonic() - started:.0f} s)"))
        failed |= bool(tally["works-lost"] or tally["crashed"] or tally["unclean-exits"])
    if args.radio_drops:
        started = time.monotonic()
        workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
        workdir.mkdir(parents=True, exist_ok=True)
        tally = radio_drops(workdir, args.radio_drops)
        if not args.keep:
            shutil.rmtree(workdir)
        print(tally.report(f"radio TCP link dropped {args.radio_drops} times ({time.monotonic() - started:.0f} s)"))
        failed |= bool(tally["works-lost"] or tally["crashed"] or tally["unclean-exits"] or tally["stalled"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
