"""Simulator speed: simulated seconds per wall second, against the issue-12 targets.

    .venv/bin/python benchmarks/sim_speed.py            # random:100, 16 KiB, 6 simulated hours: <= 10 s wall
    .venv/bin/python benchmarks/sim_speed.py --large    # random:1000, 16 KiB, 1 simulated hour: <= 5 min wall
    .venv/bin/python benchmarks/sim_speed.py --nodes 300 --hours 2 [--protocol flood] [--background 0.05]

The whole horizon is simulated (no stop at completion). CPU seconds are printed beside the wall
time: on a shared machine the wall time also counts other processes.
"""

from __future__ import annotations

import argparse
import time

from simulator.runner import RunSpec, run

TARGETS = {(100, 6.0): 10.0, (1000, 1.0): 300.0}  # (nodes, hours) -> wall seconds allowed


def main() -> None:
    """Time one full-horizon run and print simulated seconds per wall second."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", default="gossip", choices=("gossip", "flood"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--background", type=float, default=0.0)
    parser.add_argument("--large", action="store_true", help="random:1000 for one simulated hour")
    args = parser.parse_args()
    nodes, hours = (1000, 1.0) if args.large else (args.nodes, args.hours)
    spec = RunSpec(scenario=f"random:{nodes}", size=16 * 1024, preset="MEDIUM_FAST", seed=args.seed,
                   protocol=args.protocol, hours=hours, stop_on_complete=False, background=args.background)
    started, cpu_started = time.perf_counter(), time.process_time()
    r = run(spec)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{args.protocol} on random:{nodes}, 16 KiB, MEDIUM_FAST, {hours:g} simulated hours, "
          f"background {args.background:g}")
    print(f"  complete {r['complete_fraction']:.2f} (last at {r['completion_s']} s), airtime {r['airtime_s']:.1f} s, "
          f"frames {r['frames_sent']}, collisions {r['collisions']}, events {r['events']}")
    print(f"  wall {wall:.1f} s (CPU {cpu:.1f} s), {r['simulated_s'] / wall:,.0f} simulated seconds per wall second")
    target = TARGETS.get((nodes, hours))
    if target is not None:
        print(f"  [{'PASS' if wall <= target else 'FAIL'}] {hours:g} simulated hours of random:{nodes} "
              f"in <= {target:g} s wall")


if __name__ == "__main__":
    main()
