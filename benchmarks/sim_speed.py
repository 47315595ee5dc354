"""Simulator target 3: random:100, 16 KiB, 6 simulated hours (the whole horizon), wall time.

    .venv/bin/python benchmarks/sim_speed.py [--protocol gossip|flood] [--seed N]
"""

from __future__ import annotations

import argparse
import time

from simulator.runner import RunSpec, run


def main() -> None:
    """Time one full-horizon run and print simulated seconds per wall second."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--protocol", default="gossip", choices=("gossip", "flood"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=100)
    args = parser.parse_args()
    spec = RunSpec(scenario=f"random:{args.nodes}", size=16 * 1024, preset="MEDIUM_FAST", seed=args.seed,
                   protocol=args.protocol, hours=6.0, stop_on_complete=False)
    started = time.perf_counter()
    r = run(spec)
    wall = time.perf_counter() - started
    print(f"{args.protocol} on random:{args.nodes}, 16 KiB, MEDIUM_FAST, 6 simulated hours")
    print(f"  complete {r['complete_fraction']:.2f} (last at {r['completion_s']} s), airtime {r['airtime_s']:.1f} s, "
          f"frames {r['frames_sent']}, collisions {r['collisions']}, events {r['events']}")
    print(f"  wall {wall:.1f} s, {r['simulated_s'] / wall:,.0f} simulated seconds per wall second")
    print(f"  [{'PASS' if wall <= 60 else 'FAIL'}] 6 simulated hours in <= 60 s wall")


if __name__ == "__main__":
    main()
