"""The fair peers against gossip: flood-repair's and flood-expert's airtime over gossip's, per seed.

    .venv/bin/python benchmarks/flood_peers.py [--seeds 1,2,3] [--only amsterdam-wide|random:30]

Each case runs ``sim compare`` (gossip, flood-repair, flood-expert to completion on the same
scenario, workload and seed) and prints one line per seed, then the median and range of each ratio.
It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics

from simulator.runner import RunSpec, compare

CASES = {  # name: (scenario, size, loss)
    "amsterdam-wide": ("amsterdam-wide", 32 * 1024, 0.3),
    "random:30": ("random:30", 16 * 1024, 0.1),
}
RATIOS = ("flood_repair_over_gossip_airtime", "flood_expert_over_gossip_airtime")


def main() -> None:
    """Run the cases and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    parser.add_argument("--only", choices=sorted(CASES), help="run one case")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    for name in [args.only] if args.only else list(CASES):
        scenario, size, loss = CASES[name]
        print(f"{scenario}, {size // 1024} KiB, loss {loss}")
        ratios: dict[str, list[float]] = {k: [] for k in RATIOS}
        for seed in seeds:
            result = compare(RunSpec(scenario=scenario, size=size, loss=loss, seed=seed))
            cells = []
            for protocol in ("gossip", "flood-repair", "flood-expert"):
                r = result[protocol]
                cells.append(f"{protocol} {r['airtime_s']:.0f} s air, done {r['complete_fraction'] * 100:.0f} % "
                             f"at {r['completion_s']} s")
            for key in RATIOS:
                if result[key] is not None:
                    ratios[key].append(result[key])
            print(f"  seed {seed}: " + "; ".join(cells)
                  + f"; repair/gossip {result[RATIOS[0]]}, expert/gossip {result[RATIOS[1]]}", flush=True)
        for key, values in ratios.items():
            if values:
                print(f"  {key}: median {statistics.median(values):.2f}, range {min(values):.2f}-{max(values):.2f} "
                      f"over seeds {args.seeds}")


if __name__ == "__main__":
    main()
