"""Reproduce the IP-link stall seen in the power-cut runs (reported in docs/RELIABILITY.md).

Runs the power-cut cycles transfer, ingest (16 uploads), takedown, transfer between two real
daemons on Mosquitto and prints both daemons' frame counters every 2 s during the last transfer.
On the affected engine the source's ``frames_out`` stops for about a minute with frames queued
while the victim's requests keep arriving::

    .venv/bin/python benchmarks/reliability_ip_stall.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run the four cycles and print the last transfer's time."""
    from tests.reliability import power_cuts
    from tests.transport.broker import Mosquitto

    power_cuts.UPLOADS_PER_CYCLE = 16
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp))
        broker.start()
        run = power_cuts.PowerCutRun(Path(tmp), broker, 9)
        stop = threading.Event()

        def monitor() -> None:
            while not stop.wait(2.0):
                try:
                    victim, source = run.victim.status()["links"]["mqtt"], run.source.status()["links"]["mqtt"]
                except OSError:
                    continue
                print(f"  victim out={victim['frames_out']} in={victim['frames_in']} | source "
                      f"out={source['frames_out']} in={source['frames_in']} queued={source.get('queued')}", flush=True)

        try:
            run.start()
            for phase in ("transfer", "ingest", "takedown"):
                getattr(run, f"cycle_{phase}")()
            threading.Thread(target=monitor, daemon=True).start()
            started = time.monotonic()
            run.cycle_transfer()
            print(f"last transfer (kill mid-way, restart, resume) took {time.monotonic() - started:.1f} s")
        finally:
            stop.set()
            for daemon in run.daemons():
                if daemon.process is not None and daemon.process.poll() is None:
                    daemon.process.kill()
                    daemon.process.wait()
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
