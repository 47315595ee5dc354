"""Hostile mesh figures (issue 9): each attacker against the same run without it.

    .venv/bin/python benchmarks/hostile_mesh.py [--scenarios amsterdam amsterdam-wide]
        [--sizes 16384 32768] [--hours 3] [--seed 1] [--trace-memory] [--json out.json]

Per scenario and work size: delivery to honest nodes (complete fraction, last completion),
honest airtime and its overhead against the baseline, the attacker's airtime, the largest
engine tables on any honest node, drops by reason, and (with --trace-memory) the traced heap.
"""

from __future__ import annotations

import argparse
import json
import sys

from simulator.attackers import ATTACKS, HostileSpec, overhead, run_hostile


def row(result: dict, baseline: dict) -> str:
    """One table line."""
    s = result["state_max"]
    done = "-" if result["completion_s"] is None else f"{result['completion_s']:.0f}"
    mem = "" if result["traced_kib"] is None else f" heap {result['traced_kib']['peak']} KiB"
    return (f"  {result['attack']:7s} complete {result['complete_fraction']:.2f} at {done:>6s} s | honest air "
            f"{result['honest_airtime_s']:8.1f} s ({overhead(result, baseline):+.0%}) | attacker air "
            f"{result['attacker_airtime_s']:6.1f} s | wants {s['works_wanted']:2d} asm {s['assemblies']} "
            f"queued {s['queued']:3d} stored {s['stored_works']} takedowns {s['takedowns']}{mem}")


def main() -> int:
    """Run the grid and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["amsterdam", "amsterdam-wide"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[16 * 1024, 32 * 1024])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args()
    results = []
    for scenario in args.scenarios:
        for size in args.sizes:
            print(f"{scenario}, {size} bytes, MEDIUM_FAST, {args.hours} h, seed {args.seed}", flush=True)
            base_spec = HostileSpec(scenario=scenario, size=size, hours=args.hours, seed=args.seed,
                                    trace_memory=args.trace_memory)
            baseline = run_hostile(base_spec)
            results.append(baseline)
            print(row(baseline, baseline), flush=True)
            for attack in ATTACKS:
                result = run_hostile(HostileSpec(**{**base_spec.__dict__, "attack": attack}))
                results.append(result)
                print(row(result, baseline), flush=True)
                print(f"          drops {result['drops']}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(results, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
