"""Firmware 2.8 signs small broadcasts: what that costs the gossip protocol (issue 13 item 5).

Runs gossip on the same scenarios and seeds with and without ``--signed-broadcasts`` (every
radio adds a 66-byte XEdDSA signature to a broadcast whose Data fits, fw develop ``Router.cpp``
``signedDataFits``) and prints median airtime and airtime over the cut-set bound.

    .venv/bin/python benchmarks/signed_broadcasts.py --seeds 1-3
"""

from __future__ import annotations

import argparse
import statistics

from simulator.runner import RunSpec, run
from simulator.sweep import parse_seeds

CASES = (("grid:25", 16 * 1024, 0.1), ("random:30", 16 * 1024, 0.1), ("amsterdam-wide", 32 * 1024, 0.3))


def main() -> None:
    """Print one row per case and signing setting."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1-3", help="seeds, e.g. 1-3 (default)")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    print(f"{'case':34} {'signed':6} {'airtime s':>10} {'airtime/LP':>10} {'complete':>8}")
    for scenario, size, loss in CASES:
        for signed in (False, True):
            runs = [run(RunSpec(scenario=scenario, size=size, loss=loss, seed=s, signed_broadcasts=signed))
                    for s in seeds]
            airtime = statistics.median(r["airtime_s"] for r in runs)
            ratio = statistics.median(r["airtime_over_lp"] for r in runs)
            complete = min(r["complete_fraction"] for r in runs)
            print(f"{f'{scenario} {size // 1024}k loss {loss:g}':34} {'yes' if signed else 'no':6} "
                  f"{airtime:10.1f} {ratio:10.3f} {complete:8.2f}")


if __name__ == "__main__":
    main()
