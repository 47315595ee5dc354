"""Sweeps: one figure over many runs, as median and worst over seeds.

A sweep is a grid of scenario × workload × protocol × loss × background × seed. Every point of
the grid is one :func:`simulator.runner.run`; the runs of one *cell* (everything but the seed)
are summarised as the median and the worst of each figure. "Worst" is the bad direction of
that figure: the largest time, ratio or airtime, the smallest completeness.

The runs go to any :class:`concurrent.futures.Executor`: a ``ProcessPoolExecutor`` on this
machine, or the executor of a ``distributed.Client`` for a Dask cluster. With no executor they
run in this process. Each run is deterministic from its spec, and the records come back in
grid order, so the three give identical results.

Figures are named by their keys in the run's result (``METRICS``); a key the runner does not
report (yet) is a missing value, never an error.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from simulator.channel.background import MAX_UTILISATION
from simulator.channel.propagation import preset as check_preset
from simulator.protocols import PROTOCOLS
from simulator.runner import RunSpec, run
from simulator.scenarios import load_scenario
from simulator.workload import NAMED, make_workload, resolve_specs

Figure = float | int | None
Progress = Callable[[int, int], None]  # (runs done, runs in the sweep)

# The figures a sweep records, in the order it prints them. Keys the runner may not report yet
# (the cut-set bound's) are simply missing until it does.
METRICS: tuple[str, ...] = (
    "complete_fraction",
    "works_everywhere",
    "completion_s",
    "catalogue_s",
    "first_work_s",
    "median_work_s",
    "last_work_s",
    "airtime_s",
    "lp_bound_airtime_s",
    "airtime_over_lp",
    "lp_time_bound_s",
    "completion_over_time_bound",
    "airtime_over_gossip",
    "frames_sent",
    "collisions",
    "max_duty_cycle",
    "max_busy_fraction",
    "background_busy_fraction",
)
HIGHER_IS_BETTER = frozenset({"complete_fraction", "works_everywhere"})
BASELINE = "gossip"
PAIRED = "airtime_over_gossip"  # a run's airtime over gossip's on the same cell and seed: computed here


class SweepError(ValueError):
    """A sweep that cannot run, with a one-line reason."""


@dataclass(frozen=True)
class Cell:
    """One point of the grid without its seed: the runs that are summarised together."""

    scenario: str
    workload: str  # "exhibition", a workload file, "SIZE" or "NxSIZE" (see parse_workload)
    protocol: str
    loss: float
    background: float
    preset: str

    def label(self) -> str:
        """One line naming the cell."""
        return (f"{self.scenario} · {self.workload} · {self.protocol} · {self.preset} · loss {self.loss:g} · "
                f"background {self.background:g}")


@dataclass(frozen=True)
class Job:
    """One run of a sweep."""

    cell: Cell
    seed: int
    hours: float
    duty_rule: str

    def spec(self) -> RunSpec:
        """The runner's spec for this job."""
        workload, works, size = parse_workload(self.cell.workload)
        spec = RunSpec(scenario=self.cell.scenario, size=size, preset=self.cell.preset, seed=self.seed,
                       loss=self.cell.loss, protocol=self.cell.protocol, hours=self.hours,
                       duty_rule=self.duty_rule, workload=workload, works=works, background=self.cell.background)
        return spec


@dataclass(frozen=True)
class RunRecord:
    """What a sweep keeps of one run: its place in the grid and its figures."""

    cell: Cell
    seed: int
    figures: dict[str, Figure]


@dataclass(frozen=True)
class FigureSummary:
    """One figure over the seeds of a cell; ``None`` where the ranked value is missing."""

    median: float | None
    worst: float | None
    missing: int  # runs without a value (never happened, or not reported)


@dataclass(frozen=True)
class CellSummary:
    """The median and worst of every figure over a cell's seeds."""

    cell: Cell
    seeds: tuple[int, ...]
    figures: dict[str, FigureSummary]


@dataclass(frozen=True)
class SweepGrid:
    """The axes of a sweep and the settings every run shares."""

    scenarios: tuple[str, ...]
    workloads: tuple[str, ...] = ("32768",)
    protocols: tuple[str, ...] = ("gossip",)
    seeds: tuple[int, ...] = (1,)
    losses: tuple[float, ...] = (0.0,)
    backgrounds: tuple[float, ...] = (0.0,)
    preset: str = "MEDIUM_FAST"
    hours: float = 6.0
    duty_rule: str = "strict"

    def cells(self) -> list[Cell]:
        """Every cell, in grid order (scenario, workload, protocol, loss, background)."""
        return [Cell(s, w, p, loss, bg, self.preset)
                for s in self.scenarios for w in self.workloads for p in self.protocols
                for loss in self.losses for bg in self.backgrounds]

    def jobs(self) -> list[Job]:
        """Every run: each cell with each seed."""
        return [Job(cell, seed, self.hours, self.duty_rule) for cell in self.cells() for seed in self.seeds]

    def check(self) -> None:
        """Raise SweepError with a one-line reason before any run starts."""
        for name, axis in (("--scenario", self.scenarios), ("--workload", self.workloads),
                           ("--protocol", self.protocols), ("--seeds", self.seeds), ("--loss", self.losses),
                           ("--background", self.backgrounds)):
            if not axis:
                raise SweepError(f"{name} needs at least one value")
            if len(set(axis)) != len(axis):
                raise SweepError(f"{name} lists a value twice")
        unknown = [p for p in self.protocols if p not in PROTOCOLS]
        if unknown:
            raise SweepError(f"unknown protocol {unknown[0]!r}; choose from {', '.join(PROTOCOLS)}")
        bad = [b for b in self.backgrounds if not 0.0 <= b <= MAX_UTILISATION]
        if bad:
            raise SweepError(f"--background must be in 0..{MAX_UTILISATION}, got {bad[0]:g}")
        try:
            check_preset(self.preset)
            for job in self.jobs()[:: len(self.seeds)]:  # one seed per cell: the settings, not the luck
                job.spec().check()
            first = self.seeds[0]
            for scenario in self.scenarios:
                topology = load_scenario(scenario, first)
                for workload in self.workloads:
                    named, works, size = parse_workload(workload)
                    label, specs = resolve_specs(named, works, size)
                    make_workload(specs, first, topology, label)
        except SweepError:
            raise
        except ValueError as exc:  # TopologyError, WorkloadError and RunSpec.check are ValueErrors
            raise SweepError(str(exc)) from None


@dataclass(frozen=True)
class SweepResult:
    """Every run's record, in grid order, and the summary of each cell."""

    grid: SweepGrid
    metrics: tuple[str, ...]
    records: tuple[RunRecord, ...]
    cells: tuple[CellSummary, ...]


def run_job(job: Job, metrics: Sequence[str]) -> RunRecord:
    """Run one job and keep its figures (the function the executors run; it must stay importable)."""
    result = run(job.spec())
    figures: dict[str, Figure] = {}
    for key in _recorded(metrics):
        value = result.get(key)
        figures[key] = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    return RunRecord(job.cell, job.seed, figures)


def run_sweep(grid: SweepGrid, metrics: Sequence[str] = METRICS, executor: Executor | None = None,
              progress: Progress | None = None) -> SweepResult:
    """Run every job of ``grid`` (on ``executor``, or in this process) and summarise each cell."""
    return run_sweeps([grid], metrics, executor, progress)[0]


def run_sweeps(grids: Sequence[SweepGrid], metrics: Sequence[str] = METRICS, executor: Executor | None = None,
               progress: Progress | None = None) -> list[SweepResult]:
    """Several sweeps as one batch of runs (no core idles between them); one result per grid."""
    for grid in grids:
        grid.check()
    jobs = [(g, job) for g, grid in enumerate(grids) for job in grid.jobs()]
    records: list[RunRecord | None] = [None] * len(jobs)
    if executor is None:
        for i, (_, job) in enumerate(jobs):
            records[i] = run_job(job, metrics)
            if progress is not None:
                progress(i + 1, len(jobs))
    else:
        pending: dict[Future[RunRecord], int] = {executor.submit(run_job, job, tuple(metrics)): i
                                                 for i, (_, job) in enumerate(jobs)}
        for done, future in enumerate(as_completed(pending), start=1):
            records[pending[future]] = future.result()
            if progress is not None:
                progress(done, len(jobs))
    results = []
    for g, grid in enumerate(grids):
        own = [r for (k, _), r in zip(jobs, records, strict=True) if k == g and r is not None]
        finished = with_paired_ratios(own, metrics)
        results.append(SweepResult(grid, tuple(metrics), tuple(finished), tuple(summarise(finished, metrics))))
    return results


@contextlib.contextmanager
def executor_for(serial: bool = False, workers: int | None = None,
                 dask: str | None = None) -> Iterator[Executor | None]:
    """Where the runs go: this process (``None``), the Dask scheduler at ``dask``, or a process per core."""
    if serial:
        yield None
    elif dask is not None:
        try:
            from distributed import Client
        except ImportError:
            raise SweepError("--dask needs the distributed package: pip install 'mesh-art-node[sim]'") from None
        try:
            client = Client(dask, timeout="15s")
        except (OSError, TimeoutError) as exc:
            raise SweepError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None
        with client:
            yield client.get_executor(pure=False)  # pure=False: never reuse a cached result by its arguments
    else:
        if workers is not None and workers < 1:
            raise SweepError(f"--workers must be at least 1, got {workers}")
        with ProcessPoolExecutor(max_workers=workers or len(os.sched_getaffinity(0))) as pool:
            yield pool


def with_paired_ratios(records: Sequence[RunRecord], metrics: Sequence[str]) -> list[RunRecord]:
    """Fill ``airtime_over_gossip``: each run's airtime over gossip's on the same cell and seed."""
    if PAIRED not in metrics:
        return list(records)
    baseline = {(_pair_key(r.cell), r.seed): r.figures.get("airtime_s") for r in records
                if r.cell.protocol == BASELINE}
    out = []
    for r in records:
        base = baseline.get((_pair_key(r.cell), r.seed))
        own = r.figures.get("airtime_s")
        figures = {k: r.figures.get(k) for k in metrics if k != PAIRED}
        figures[PAIRED] = round(own / base, 4) if own is not None and base else None
        out.append(RunRecord(r.cell, r.seed, {k: figures[k] for k in metrics}))
    return out


def summarise(records: Sequence[RunRecord], metrics: Sequence[str]) -> list[CellSummary]:
    """The median and worst of each figure per cell, cells in the order of their first record."""
    by_cell: dict[Cell, list[RunRecord]] = {}
    for r in records:
        by_cell.setdefault(r.cell, []).append(r)
    return [CellSummary(cell, tuple(r.seed for r in runs),
                        {key: summarise_figure(key, [r.figures.get(key) for r in runs]) for key in metrics})
            for cell, runs in by_cell.items()]


def summarise_figure(key: str, values: Sequence[Figure]) -> FigureSummary:
    """Median and worst of one figure; a missing value ranks as the worst outcome.

    A run that never completed has no completion time, and is worse than any run that did; so
    missing values sort to the bad end, and a median or worst that lands on one is ``None``.
    """
    higher_better = key in HIGHER_IS_BETTER
    present = sorted(float(v) for v in values if v is not None)
    if higher_better:
        present.reverse()
    ranked: list[float | None] = [*present, *([None] * (len(values) - len(present)))]  # best first
    if not ranked:
        return FigureSummary(None, None, 0)
    n = len(ranked)
    middle = ranked[(n - 1) // 2: n // 2 + 1]
    median = None if any(v is None for v in middle) else statistics.fmean(v for v in middle if v is not None)
    return FigureSummary(None if median is None else round(median, 6), ranked[-1], n - len(present))


def _recorded(metrics: Sequence[str]) -> list[str]:
    keys = [k for k in metrics if k != PAIRED]
    if PAIRED in metrics and "airtime_s" not in keys:
        keys.append("airtime_s")  # the pairing needs it; dropped again once the ratio is in
    return keys


def _pair_key(cell: Cell) -> tuple[str, str, float, float, str]:
    return (cell.scenario, cell.workload, cell.loss, cell.background, cell.preset)


# --- parsing the axes -------------------------------------------------------------------------------------

_SIZE = re.compile(r"(?:(\d+)x)?(\d+)(k?)", re.IGNORECASE)


def parse_workload(text: str) -> tuple[str | None, int | None, int]:
    """A workload axis value as the runner's (workload, works, size).

    ``exhibition`` (a named workload), ``32768`` or ``32k`` (one work of that size),
    ``20x24k`` (20 works of 24 KiB at t = 0), anything else a workload JSON file.
    """
    if text in NAMED:
        return text, None, 32 * 1024
    match = _SIZE.fullmatch(text)
    if match is None:
        return text, None, 32 * 1024
    count, number, kib = match.groups()
    size = int(number) * (1024 if kib else 1)
    return None, None if count is None else int(count), size


def parse_seeds(text: str) -> tuple[int, ...]:
    """``1-8``, ``1,3,5`` or a mix (``1-4,9``) as a tuple of seeds."""
    seeds: list[int] = []
    for part in _items([text]):
        low, dash, high = part.partition("-")
        try:
            seeds += range(int(low), int(high) + 1) if dash else [int(low)]
        except ValueError:
            raise SweepError(f"--seeds must be numbers or ranges such as 1-8, got {part!r}") from None
    if not seeds:
        raise SweepError(f"--seeds must name at least one seed, got {text!r}")
    return tuple(seeds)


def parse_floats(values: Iterable[str], option: str) -> tuple[float, ...]:
    """Comma-separated or repeated numbers (``--loss 0,0.1 --loss 0.3``)."""
    out = []
    for item in _items(values):
        try:
            out.append(float(item))
        except ValueError:
            raise SweepError(f"{option} must be numbers, got {item!r}") from None
    return tuple(out)


def parse_names(values: Iterable[str]) -> tuple[str, ...]:
    """Comma-separated or repeated names (``--scenario amsterdam,grid:9``)."""
    return tuple(_items(values))


def _items(values: Iterable[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


# --- output -----------------------------------------------------------------------------------------------

_AXES = ("scenario", "workload", "protocol", "preset", "loss", "background")


def render(result: SweepResult) -> str:
    """The median and worst of each figure, one block per cell; figures no run reported are listed once."""
    reported = [k for k in result.metrics if any(r.figures.get(k) is not None for r in result.records)]
    absent = [k for k in result.metrics if k not in reported]
    width = max((len(k) for k in reported), default=6)
    lines = []
    for summary in result.cells:
        seeds = summary.seeds
        lines.append(f"{summary.cell.label()}: {len(seeds)} seed{'s' if len(seeds) != 1 else ''} "
                     f"({_seed_text(seeds)})")
        lines.append(f"  {'figure'.ljust(width)}  {'median':>10}  {'worst':>10}  missing")
        for key in reported:
            fig = summary.figures[key]
            lines.append(f"  {key.ljust(width)}  {format_figure(fig.median):>10}  {format_figure(fig.worst):>10}"
                         f"  {fig.missing or ''}".rstrip())
        lines.append("")
    if absent:
        lines.append(f"not reported by any run: {', '.join(absent)}")
    return "\n".join(lines).rstrip()


def format_figure(value: float | None) -> str:
    """A figure for a table: ``-`` when missing, 4 significant digits below 10, else one decimal."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) >= 10:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 10 else f"{value:.1f}"


def to_json(result: SweepResult) -> dict[str, object]:
    """The grid, every run and every cell's summary, as plain data."""
    return {
        "grid": asdict(result.grid),
        "metrics": list(result.metrics),
        "runs": [{**asdict(r.cell), "seed": r.seed, **r.figures} for r in result.records],
        "cells": [{**asdict(c.cell), "seeds": list(c.seeds),
                   "figures": {k: asdict(f) for k, f in c.figures.items()}} for c in result.cells],
    }


def write(result: SweepResult, path: Path) -> None:
    """Write ``path``: ``.json`` (grid, runs, cell summaries) or ``.csv`` (one row per run)."""
    if path.suffix == ".json":
        path.write_text(json.dumps(to_json(result), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    elif path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow([*_AXES, "seed", *result.metrics])
            for r in result.records:
                cell = asdict(r.cell)
                out.writerow([*(cell[a] for a in _AXES), r.seed,
                              *("" if r.figures.get(k) is None else r.figures[k] for k in result.metrics)])
    else:
        raise SweepError(f"--out must end in .csv or .json, got {path.name!r}")


def _seed_text(seeds: Sequence[int]) -> str:
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(str(s) for s in seeds)
