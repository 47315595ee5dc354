"""The simulator's headline figures (issue 12, "What it must show"): median and worst over seeds.

For each case it prints the share of nodes that hold every work, the completion time, the airtime
over the cut-set bound, the completion time over the time bound, the catalogue time, gossip's
airtime, and the airtime of flood+repair and of the expert flood over gossip's on the same seed. A figure the
simulator does not report yet (or a run that never reached it) prints ``-``. It asserts nothing.

    .venv/bin/python benchmarks/sim_targets.py                  # every case, seeds 1-8, every core
    .venv/bin/python benchmarks/sim_targets.py --quick          # seeds 1-2, without the two slow cases
    .venv/bin/python benchmarks/sim_targets.py --only amsterdam-32k,grid25-16k --seeds 1-3
    .venv/bin/python benchmarks/sim_targets.py --dask tcp://scheduler:8786

The two exhibition cases on amsterdam-wide take minutes of CPU per run.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from simulator.protocols import PROTOCOLS
from simulator.report import RunCountBar
from simulator.sweep import (
    CellSummary,
    FigureSummary,
    SweepError,
    SweepGrid,
    executor_for,
    format_figure,
    parse_names,
    parse_seeds,
    run_sweeps,
)

PEERS = ("flood-repair", "flood-expert")
SLOW = ("wide-exhibition", "wide-exhibition-bg")


@dataclass(frozen=True)
class Case:
    """One headline scenario."""

    name: str  # for --only
    scenario: str
    workload: str  # a sweep workload value: SIZE, NxSIZE or exhibition
    loss: float = 0.0
    background: float = 0.0

    def title(self) -> str:
        """What the case runs, in one line."""
        extra = "".join(f", {k} {v:g}" for k, v in (("loss", self.loss), ("background", self.background)) if v)
        return f"{self.scenario} {self.workload}{extra}"


CASES = (
    Case("amsterdam-32k", "amsterdam", "32k"),
    Case("wide-32k", "amsterdam-wide", "32k"),
    Case("wide-32k-loss0.3", "amsterdam-wide", "32k", loss=0.3),
    Case("grid25-16k", "grid:25", "16k", loss=0.1),
    Case("random30-16k", "random:30", "16k", loss=0.1),
    Case("exhibition", "amsterdam", "exhibition"),
    Case("wide-exhibition", "amsterdam-wide", "exhibition", loss=0.1),
    Case("wide-exhibition-bg", "amsterdam-wide", "exhibition", loss=0.1, background=0.05),
)
METRICS = ("complete_fraction", "completion_s", "airtime_over_lp", "completion_over_time_bound", "catalogue_s",
           "airtime_s", "airtime_over_gossip")
COLUMNS = (("complete", "complete_fraction"), ("completion s", "completion_s"), ("airtime/LP", "airtime_over_lp"),
           ("completion/T", "completion_over_time_bound"), ("catalogue s", "catalogue_s"),
           ("gossip airtime s", "airtime_s"))


def main() -> int:
    """Run the chosen cases as one batch and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated cases: {', '.join(c.name for c in CASES)}")
    parser.add_argument("--seeds", help="seeds, e.g. 1-8 (default 1-8; 1-2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="seeds 1-2, and leave out " + ", ".join(SLOW))
    parser.add_argument("--hours", type=float, default=6.0, help="simulated horizon per run (default 6)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="processes (default: one per core)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on a Dask scheduler")
    args = parser.parse_args()
    try:
        cases = choose(args.only, args.quick)
        seeds = parse_seeds(args.seeds or ("1-2" if args.quick else "1-8"))
    except SweepError as exc:
        print(f"sim_targets: {exc}", file=sys.stderr)
        return 2
    protocols = ("gossip", *(p for p in PEERS if p in PROTOCOLS))
    grids: list[tuple[Case, SweepGrid]] = []
    skipped: dict[Case, str] = {}
    for case in cases:
        grid = SweepGrid(scenarios=(case.scenario,), workloads=(case.workload,), protocols=protocols, seeds=seeds,
                         losses=(case.loss,), backgrounds=(case.background,), hours=args.hours)
        try:
            grid.check()
        except SweepError as exc:
            skipped[case] = str(exc)
            continue
        grids.append((case, grid))
    missing_peers = [p for p in PEERS if p not in PROTOCOLS]
    print(f"sim targets: median / worst over seeds {','.join(map(str, seeds))}; MEDIUM_FAST, {args.hours:g} h "
          f"horizon; protocols {', '.join(protocols)}"
          + (f" ({', '.join(missing_peers)} not in this simulator: '-')" if missing_peers else ""))
    started = time.perf_counter()
    bar = RunCountBar()
    try:
        with executor_for(workers=args.workers, dask=args.dask) as executor:
            results = run_sweeps([g for _, g in grids], METRICS, executor, bar)
    finally:
        bar.close()
    summaries = {case: result.cells for (case, _), result in zip(grids, results, strict=True)}
    rows = [[case.title(), f"skipped: {skipped[case]}"] if case in skipped else table_row(case, summaries[case])
            for case in cases]
    header = ["case", *(c for c, _ in COLUMNS), *(f"{p}/gossip" for p in PEERS)]
    print_table(header, rows)
    runs = sum(len(r.records) for r in results)
    print(f"\n{runs} runs in {time.perf_counter() - started:.0f} s wall")
    return 0


def choose(only: str | None, quick: bool) -> list[Case]:
    """The cases named by --only (all by default; --quick leaves out the slow ones)."""
    if only:
        names = parse_names([only])
        unknown = [n for n in names if n not in {c.name for c in CASES}]
        if unknown:
            raise SweepError(f"unknown case {unknown[0]!r}; choose from {', '.join(c.name for c in CASES)}")
        return [c for c in CASES if c.name in names]
    return [c for c in CASES if not (quick and c.name in SLOW)]


def table_row(case: Case, cells: tuple[CellSummary, ...]) -> list[str]:
    """One case: gossip's figures, then each peer's airtime over gossip's."""
    by_protocol = {c.cell.protocol: c for c in cells}
    gossip = by_protocol["gossip"]
    row = [case.title(), *(median_and_worst(gossip.figures[key]) for _, key in COLUMNS)]
    for peer in PEERS:
        cell = by_protocol.get(peer)
        row.append(median_and_worst(None if cell is None else cell.figures["airtime_over_gossip"]))
    return row


def median_and_worst(fig: FigureSummary | None) -> str:
    """``median / worst``, or ``-`` when there is neither (not reported, or no run reached it)."""
    if fig is None or (fig.median is None and fig.worst is None):
        return "-"
    return f"{format_figure(fig.median)} / {format_figure(fig.worst)}"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Left-aligned first column, right-aligned figures; short rows (skipped cases) run on."""
    widths = [max(len(r[i]) for r in [header, *rows] if i < len(r) and len(r) == len(header))
              for i in range(len(header))]
    for k, row in enumerate([header, *rows]):
        if len(row) != len(header):
            print(f"{row[0].ljust(widths[0])}  {' '.join(row[1:])}")
            continue
        print("  ".join([row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]))
        if k == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
