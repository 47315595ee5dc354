"""Hostile mesh figures (issues 9 and 17): each attacker against the same run without it.

    .venv/bin/python benchmarks/hostile_mesh.py [--scenarios amsterdam amsterdam-wide]
        [--sizes 16384 32768] [--hours 3] [--seed 1] [--trace-memory] [--json out.json]
    .venv/bin/python benchmarks/hostile_mesh.py --exhibition [--seeds 1-3] [--works 20]
        [--attacks collider coded echo digests churn ...] [--hours 6] [--json out.json]

Grid mode, per scenario and work size: delivery to honest nodes (complete fraction, last
completion), honest airtime and its overhead against the baseline, the attacker's airtime, the
largest engine tables on any honest node, drops by reason, and (with --trace-memory) the heap.

Exhibition mode (issue 17): amsterdam-wide, MEDIUM_FAST, the exhibition workload
(``simulator.workload.exhibition_specs``, or its first ``--works``), one attacker at the legal
10 % duty cycle at the venues' centroid. Per attack: honest completion (every honest node holds
every work) over the attacker-free completion of the same seed, its median and worst over the
seeds (target: median <= 1.5x), and the (node, work) pairs still missing at the horizon (target:
0, no single frame blocks a work).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
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


def seeds_arg(text: str) -> list[int]:
    """``1-3`` or ``1,4,7``."""
    if "-" in text:
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(x) for x in text.split(",")]


def exhibition(args: argparse.Namespace) -> list[dict]:
    """Issue 17's figure: completion under each attack over the attacker-free run, per seed."""
    results = []
    works = "all 20" if args.works is None else f"the first {args.works}"
    print(f"amsterdam-wide, exhibition ({works} works), MEDIUM_FAST, horizon {args.hours} h, seeds {args.seeds}",
          flush=True)
    base: dict[int, dict] = {}
    for seed in args.seeds:
        spec = HostileSpec(scenario="amsterdam-wide", workload="exhibition", works=args.works, hours=args.hours,
                           seed=seed, stop_when_complete=True)
        base[seed] = run_hostile(spec)
        results.append(base[seed])
    done = [b["completion_s"] for b in base.values()]
    print(f"  {'none':8s} completion {done} s", flush=True)
    for attack in args.attacks:
        ratios, missing, air = [], 0, []
        for seed in args.seeds:
            spec = HostileSpec(scenario="amsterdam-wide", workload="exhibition", works=args.works, hours=args.hours,
                               seed=seed, stop_when_complete=True, attack=attack)
            result = run_hostile(spec)
            results.append(result)
            missing += result["missing"]
            air.append(result["attacker_airtime_s"])
            b = base[seed]["completion_s"]
            c = result["completion_s"]
            ratios.append(math.inf if c is None or b is None else round(c / b, 2))
        print(f"  {attack:8s} completion/attacker-free median {statistics.median(ratios):.2f}x worst "
              f"{max(ratios):.2f}x {ratios} | missing (node, work) {missing} | attacker air {air} s", flush=True)
    return results


def main() -> int:
    """Run the grid (or the exhibition figure) and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exhibition", action="store_true", help="issue 17's figure (see above)")
    parser.add_argument("--seeds", type=seeds_arg, default=[1, 2, 3], help="exhibition mode: 1-3 or 1,4,7")
    parser.add_argument("--works", type=int, help="exhibition mode: only the first N works")
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=ATTACKS)
    parser.add_argument("--scenarios", nargs="+", default=["amsterdam", "amsterdam-wide"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[16 * 1024, 32 * 1024])
    parser.add_argument("--hours", type=float, default=3.0, help="horizon (exhibition mode: 6 h is ample)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trace-memory", action="store_true")
    parser.add_argument("--json", help="write every result to this file")
    args = parser.parse_args()
    if args.exhibition:
        results = exhibition(args)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(results, out, indent=1)
        return 0
    results = []
    for scenario in args.scenarios:
        for size in args.sizes:
            print(f"{scenario}, {size} bytes, MEDIUM_FAST, {args.hours} h, seed {args.seed}", flush=True)
            base_spec = HostileSpec(scenario=scenario, size=size, hours=args.hours, seed=args.seed,
                                    trace_memory=args.trace_memory)
            baseline = run_hostile(base_spec)
            results.append(baseline)
            print(row(baseline, baseline), flush=True)
            for attack in args.attacks:
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
