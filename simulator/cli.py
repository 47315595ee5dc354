"""Arguments and actions of ``mesh-art sim run``, ``sim compare`` and ``sim sweep``.

``node/cli/sim.py`` only registers these; all the work happens here and in the runner.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from simulator.channel.propagation import EU868_PRESETS
from simulator.protocols import PROTOCOLS
from simulator.report import ProgressBar, RunCountBar, render_compare, render_run
from simulator.runner import COMPARED, RunSpec, compare, public, run
from simulator.scenarios import TopologyError
from simulator.sweep import (
    METRICS,
    SweepError,
    SweepGrid,
    executor_for,
    parse_floats,
    parse_names,
    parse_seeds,
    run_sweep,
)
from simulator.sweep import render as render_sweep
from simulator.sweep import to_json as sweep_json
from simulator.sweep import write as write_sweep


class SimError(Exception):
    """A user error, shown as one line."""


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``compare``."""
    parser.add_argument("--scenario", required=True,
                        help="amsterdam, amsterdam-wide, grid:N, random:N or a topology JSON file")
    parser.add_argument("--size", type=int, default=32 * 1024,
                        help="work size in bytes (default 32768); with --works, each work's size")
    parser.add_argument("--works", type=int, metavar="N",
                        help="N works of --size bytes, published round-robin at the venues at t = 0")
    parser.add_argument("--workload", metavar="NAME|FILE",
                        help="'exhibition' (20 mixed works at the four venues over the first hour) or a "
                             "workload JSON file (docs/simulator.md)")
    parser.add_argument("--preset", default="MEDIUM_FAST", help=f"modem preset: {', '.join(EU868_PRESETS)}")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same run")
    parser.add_argument("--loss", type=float, default=0.0, help="extra uniform loss per link and frame, 0..1")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated horizon in hours (default 6)")
    parser.add_argument("--background", type=float, default=0.0, metavar="U",
                        help="foreign traffic (public LongFast mesh, MeshCore) busy share of the slot, 0..0.9 "
                             "(default 0)")
    parser.add_argument("--hop-limit", type=int, metavar="N",
                        help="flood variants: hop limit 0..7 of every packet (default 3; flood-expert: what its "
                             "routers need)")
    parser.add_argument("--duty-rule", choices=("strict", "firmware"), default="strict",
                        help="strict: refuse a send that would pass the limit; firmware: refuse once above it")
    parser.add_argument("--signed-broadcasts", action="store_true",
                        help="every radio runs firmware 2.8: broadcasts of 165 bytes or less carry a 66-byte signature")
    parser.add_argument("--full-horizon", action="store_true",
                        help="keep running after every node completed, to the end of --hours")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--plot", metavar="DIR", help="write PNG figures to DIR")


def spec_from(args: argparse.Namespace, protocol: str) -> RunSpec:
    """A RunSpec from parsed arguments."""
    return RunSpec(scenario=args.scenario, size=args.size, preset=args.preset, seed=args.seed, loss=args.loss,
                   protocol=protocol, hours=args.hours, duty_rule=args.duty_rule,
                   stop_on_complete=not args.full_horizon, workload=args.workload, works=args.works,
                   hop_limit=args.hop_limit, background=args.background,
                   signed_broadcasts=args.signed_broadcasts)


def _execute(args: argparse.Namespace, action: str) -> dict[str, Any]:
    bar = None if args.json else ProgressBar()
    try:
        if action == "compare":
            return compare(spec_from(args, "gossip"), bar)
        return run(spec_from(args, args.protocol), bar)
    except (TopologyError, ValueError, RuntimeError) as exc:
        error: type[Exception] = getattr(args, "sim_error", SimError)
        raise error(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()


def cmd_run(args: argparse.Namespace) -> int:
    """``sim run``: one protocol."""
    result = _execute(args, "run")
    _emit(args, result, render_run(result) if not args.json else "", [result])
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``sim compare``: gossip, flood-repair and flood-expert on the same scenario, workload and seed."""
    result = _execute(args, "compare")
    _emit(args, result, render_compare(result) if not args.json else "", [result[p] for p in COMPARED])
    return 0


def _emit(args: argparse.Namespace, result: dict[str, Any], text: str, runs: list[dict[str, Any]]) -> None:
    if args.plot:
        from simulator.plots import write_plots

        paths = write_plots(runs, Path(args.plot))
        if not args.json:
            text += "\n\nfigures: " + ", ".join(str(p) for p in paths)
    if args.json:
        json.dump(public(result), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print(text)


def register_sim(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                 error: type[Exception] = SimError) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Add ``sim run``, ``sim compare`` and ``sim sweep`` to a sub-parser set; user errors raise ``error(message)``.

    Returns the ``sim`` sub-parsers, so other ``sim`` actions (the virtual radios) can join them.
    """
    sim = subparsers.add_parser("sim", help="simulate a mesh: LoRa physics on virtual time")
    sub = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)
    run_parser = sub.add_parser("run", help="run one protocol on a scenario")
    add_common_arguments(run_parser)
    run_parser.add_argument("--protocol", choices=PROTOCOLS, default="gossip")
    run_parser.set_defaults(func=cmd_run, sim_error=error)
    compare_parser = sub.add_parser("compare", help="run gossip, flood-repair and flood-expert on the same scenario, "
                                                    "workload and seed")
    add_common_arguments(compare_parser)
    compare_parser.set_defaults(func=cmd_compare, sim_error=error)
    sweep_parser = sub.add_parser("sweep", help="run a grid of scenarios, workloads, protocols and seeds on "
                                                "every core or a Dask cluster; median and worst per figure")
    add_sweep_arguments(sweep_parser)
    sweep_parser.set_defaults(func=cmd_sweep, sim_error=error)
    return sub


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sim sweep``: every axis takes comma-separated values and may be repeated."""
    parser.add_argument("--scenario", required=True, action="append", metavar="A,B",
                        help="scenarios (as for sim run)")
    parser.add_argument("--workload", action="append", metavar="A,B",
                        help="exhibition, SIZE (32768 or 32k), NxSIZE (20x24k) or a workload JSON file (default 32k)")
    parser.add_argument("--protocol", action="append", metavar="A,B",
                        help=f"protocols: {', '.join(PROTOCOLS)} (default gossip)")
    parser.add_argument("--seeds", default="1-8", help="seeds, e.g. 1-8 or 1,3,5 (default 1-8)")
    parser.add_argument("--loss", action="append", metavar="A,B", help="extra loss per link and frame (default 0)")
    parser.add_argument("--background", action="append", metavar="A,B",
                        help="foreign channel utilisation, 0..1 (default 0)")
    parser.add_argument("--preset", default="MEDIUM_FAST", help=f"modem preset: {', '.join(EU868_PRESETS)}")
    parser.add_argument("--hours", type=float, default=6.0, help="simulated horizon of each run (default 6)")
    parser.add_argument("--duty-rule", choices=("strict", "firmware"), default="strict")
    parser.add_argument("--metrics", metavar="A,B", help="figures to record and summarise (default: "
                                                         "simulator.sweep.METRICS, see docs/simulator.md)")
    parser.add_argument("--out", metavar="FILE", help="FILE.csv: one row per run; FILE.json: the runs and the "
                                                      "median and worst per cell")
    parser.add_argument("--json", action="store_true", help="print the sweep as one JSON object")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="processes on this machine (default: one per core)")
    where.add_argument("--dask", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://host:8786)")
    where.add_argument("--serial", action="store_true", help="run in this process, one run after another")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sim sweep``: every run of the grid, then the median and worst of each figure per cell."""
    error: type[Exception] = getattr(args, "sim_error", SimError)
    try:
        grid = SweepGrid(
            scenarios=parse_names(args.scenario), workloads=parse_names(args.workload or ["32k"]),
            protocols=parse_names(args.protocol or ["gossip"]), seeds=parse_seeds(args.seeds),
            losses=parse_floats(args.loss or ["0"], "--loss"),
            backgrounds=parse_floats(args.background or ["0"], "--background"),
            preset=args.preset, hours=args.hours, duty_rule=args.duty_rule)
        metrics = parse_names([args.metrics]) if args.metrics else METRICS
        grid.check()
        out = Path(args.out) if args.out else None
        if out is not None and out.suffix not in (".csv", ".json"):
            raise SweepError(f"--out must end in .csv or .json, got {out.name!r}")
        bar = None if args.json else RunCountBar()
        try:
            with executor_for(args.serial, args.workers, args.dask) as executor:
                result = run_sweep(grid, metrics, executor, bar)
        finally:
            if bar is not None:
                bar.close()
        if out is not None:
            write_sweep(result, out)
    except (ValueError, RuntimeError, OSError) as exc:
        raise error(str(exc)) from None
    if args.json:
        json.dump(sweep_json(result), sys.stdout, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print(render_sweep(result) + (f"\n\nwritten: {out}" if out is not None else ""))
    return 0
