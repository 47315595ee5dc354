"""The cut-set lower bounds on the packaged scenarios, and how long they take to solve.

    .venv/bin/python benchmarks/lp_bound.py [--preset MEDIUM_FAST] [--works 20] [--size 24576]

Prints the single-work airtime bound for ``amsterdam-wide`` at 32 KiB with loss 0 and 0.3, then
for ``amsterdam-wide`` (the four venues publish) and ``random:30`` (n0, n7, n14, n21 publish)
the workload airtime bound and the time bound of ``--works`` works of ``--size`` bytes, published
round-robin at t = 0 with loss 0.1, each with its solve time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from simulator.channel.links import LinkTable
from simulator.channel.propagation import ChannelModel, preset
from simulator.lpbound import (
    WorkDemand,
    cut_set_bound,
    delivery_from_links,
    full_frame_airtime,
    payload_per_full_frame,
    time_bound,
    workload_airtime_bound,
)
from simulator.scenarios import Topology, load_scenario

VENUES = ("oba", "nemo", "waag", "zwijger")


def delivery(topology: Topology, preset_name: str, loss: float) -> np.ndarray:
    """The per-frame delivery matrix the world would draw from."""
    model = ChannelModel()
    return delivery_from_links(LinkTable(topology, preset(preset_name), model), model.shadowing_sigma_db, loss)


def main() -> None:
    """Print the bounds and their solve times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", default="MEDIUM_FAST")
    parser.add_argument("--works", type=int, default=20)
    parser.add_argument("--size", type=int, default=24 * 1024)
    args = parser.parse_args()
    p = preset(args.preset)
    full, payload = full_frame_airtime(p), payload_per_full_frame(p)
    print(f"{p.name}: full frame {full:.4f} s on air, counted as {payload:.2f} payload bytes")

    wide = load_scenario("amsterdam-wide")
    for loss in (0.0, 0.3):
        started = time.perf_counter()
        bound = cut_set_bound(delivery(wide, p.name, loss), wide.index(wide.source), 32 * 1024, full,
                              frame_payload=payload)
        wall = time.perf_counter() - started
        print(f"amsterdam-wide, 32 KiB, loss {loss}: lp_bound_airtime_s {bound.airtime_s:.1f} "
              f"({'exact' if bound.exact else 'local search'}, {len(bound.cuts)} binding cuts, {wall:.2f} s)")

    for topology, sources in ((wide, [wide.index(v) for v in VENUES]),
                              (load_scenario("random:30", 1), [0, 7, 14, 21])):
        matrix = delivery(topology, p.name, 0.1)
        works = [WorkDemand(sources[i % len(sources)], args.size) for i in range(args.works)]
        started = time.perf_counter()
        airtime = workload_airtime_bound(matrix, works, full, frame_payload=payload)
        middle = time.perf_counter()
        horizon = time_bound(matrix, works, full, frame_payload=payload)
        done = time.perf_counter()
        print(f"{topology.name}, {args.works} works of {args.size} B, loss 0.1: airtime bound {airtime:.0f} s "
              f"({middle - started:.2f} s to solve), time bound {horizon:.0f} s = {horizon / 60:.1f} min "
              f"({done - middle:.2f} s to solve)")


if __name__ == "__main__":
    main()
