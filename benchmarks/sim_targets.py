"""Simulator targets 1 and 2 of issue 4; prints the figures and PASS/FAIL per check.

    .venv/bin/python benchmarks/sim_targets.py [--seed N]
"""

from __future__ import annotations

import argparse

from simulator.runner import RunSpec, compare, run


def check(label: str, ok: bool, detail: str) -> bool:
    """Print one check."""
    print(f"  [{'PASS' if ok else 'FAIL'}] {label}: {detail}")
    return ok


def target_1(seed: int) -> bool:
    """amsterdam, 32 KiB, MEDIUM_FAST, no loss, one compare run."""
    print("target 1: amsterdam, 32 KiB, MEDIUM_FAST, no extra loss (sim compare)")
    result = compare(RunSpec(scenario="amsterdam", size=32 * 1024, preset="MEDIUM_FAST", seed=seed))
    g, f = result["gossip"], result["flood"]
    for r in (g, f):
        print(f"  {r['protocol']:6s} complete {r['complete_fraction']:.2f}, completion {r['completion_s']} s, "
              f"airtime {r['airtime_s']:.1f} s, bound {r['bound_airtime_s']:.1f} s, ratio {r['airtime_ratio']}, "
              f"frames {r['frames_sent']}, collisions {r['collisions']}")
    ratio = result["flood_over_gossip_airtime"]
    ok = check("every node complete (gossip)", g["complete_fraction"] == 1.0, f"{g['complete_fraction']:.2f}")
    ok &= check("gossip airtime_ratio <= 1.5", g["airtime_ratio"] <= 1.5, f"{g['airtime_ratio']}")
    ok &= check("flood >= 3x gossip airtime", ratio is not None and ratio >= 3.0, f"{ratio}")
    return ok


def target_2(seed: int) -> bool:
    """amsterdam-wide, 32 KiB, MEDIUM_FAST, --loss 0.3."""
    print("target 2: amsterdam-wide, 32 KiB, MEDIUM_FAST, --loss 0.3, 6 h horizon (gossip)")
    r = run(RunSpec(scenario="amsterdam-wide", size=32 * 1024, preset="MEDIUM_FAST", seed=seed, loss=0.3, hours=6))
    print(f"  gossip complete {r['complete_fraction']:.2f}, completion {r['completion_s']} s, airtime "
          f"{r['airtime_s']:.1f} s, bound {r['bound_airtime_s']:.1f} s (MCDS {r['mcds']}), ratio "
          f"{r['airtime_ratio']}, max hops {r['max_hops']}, max duty cycle {r['max_duty_cycle']:.4f}")
    ok = check("every node complete within 6 h", r["complete_fraction"] == 1.0 and r["completion_s"] <= 6 * 3600,
               f"{r['complete_fraction']:.2f} at {r['completion_s']} s")
    ok &= check("max_duty_cycle <= limit", r["max_duty_cycle"] <= r["duty_cycle_limit"],
                f"{r['max_duty_cycle']:.4f} vs {r['duty_cycle_limit']}")
    return ok


def main() -> None:
    """Run both targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    seed = parser.parse_args().seed
    results = [target_1(seed), target_2(seed)]
    print("all targets met" if all(results) else "some targets NOT met")


if __name__ == "__main__":
    main()
