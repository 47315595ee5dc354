"""Memory soak (issue 9): the real engine and store, in the simulator, hold flat memory for a day.

    .venv/bin/python benchmarks/soak_memory.py [--hours 24] [--works 200] [--size 1024] [--seed 1]

Amsterdam's four venues share ``--works`` signed works (each venue publishes a quarter at boot)
over MEDIUM_FAST LoRa, then keep gossiping (Trickle adverts, status beacons) to the horizon.
Every simulated hour the heap allocated by node/ code (engine, store, artwork objects; the
simulator's own bookkeeping is filtered out) is measured with tracemalloc. After the warm-up
(every work complete everywhere, or --warmup-h) the growth must stay below --max-growth-kib.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from dataclasses import dataclass, field

from simulator.channel.propagation import preset
from simulator.clock import TICKS_PER_SECOND
from simulator.protocols import GossipDriver
from simulator.scenarios import Topology, load_scenario
from simulator.workload import Workload, WorkSpec, make_workload
from simulator.world import World

NODE_CODE = tracemalloc.Filter(True, "*/node/*")


def soak_workload(count: int, size: int, seed: int, topology: Topology) -> Workload:
    """``count`` works of ``size`` bytes, published at boot by every node in turn."""
    names = [n.name for n in topology.nodes]
    specs = [WorkSpec(size, venue=names[i % len(names)]) for i in range(count)]
    return make_workload(specs, seed, topology, f"soak {count}x{size}")


@dataclass
class SoakResult:
    """Hourly samples of the node/ heap and when every node had every work."""

    samples: list[tuple[float, int]] = field(default_factory=list)  # (hour, bytes)
    all_complete_h: float | None = None
    complete_nodes: int = 0
    frames: int = 0

    def growth_after(self, warmup_h: float) -> int:
        """Bytes gained between the first sample at/after ``warmup_h`` and the last sample."""
        after = [b for h, b in self.samples if h >= warmup_h]
        return after[-1] - after[0] if len(after) >= 2 else 0


def soak(hours: float, works: int, size: int, seed: int = 1, scenario: str = "amsterdam") -> SoakResult:
    """Run the soak and sample memory every simulated hour."""
    topology = load_scenario(scenario, seed)
    p = preset("MEDIUM_FAST")
    driver = GossipDriver(soak_workload(works, size, seed, topology), p)
    tracemalloc.start()
    try:
        world = World(topology, p, driver, seed=seed)
        world.start()
        result = SoakResult()
        for hour in range(int(hours) + 1):
            world.queue.run_until(round(hour * 3600 * TICKS_PER_SECOND))
            traced = tracemalloc.take_snapshot().filter_traces([NODE_CODE])
            result.samples.append((float(hour), sum(stat.size for stat in traced.statistics("filename"))))
            if result.all_complete_h is None and all(n.completed_at is not None for n in world.nodes):
                result.all_complete_h = float(hour)
    finally:
        tracemalloc.stop()
    result.complete_nodes = sum(1 for n in world.nodes if n.completed_at is not None)
    result.frames = sum(n.frames_sent for n in world.nodes)
    return result


def main() -> int:
    """Print the hourly samples and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--works", type=int, default=200)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup-h", type=float, default=6.0)
    parser.add_argument("--max-growth-kib", type=float, default=256.0)
    args = parser.parse_args()
    result = soak(args.hours, args.works, args.size, args.seed)
    for hour, size in result.samples:
        print(f"  hour {hour:4.0f}: node/ heap {size / 1024:8.0f} KiB")
    warmup = max(args.warmup_h, result.all_complete_h or args.warmup_h)
    growth = result.growth_after(warmup) / 1024
    ok = result.complete_nodes == 4 and growth <= args.max_growth_kib
    print(f"{args.works} works x {args.size} B, all complete at hour {result.all_complete_h}, "
          f"{result.frames} frames; growth after hour {warmup:g}: {growth:+.1f} KiB "
          f"(bound {args.max_growth_kib:g}) -> {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
