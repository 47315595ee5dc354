"""Arguments and actions of ``mesh-art sim run`` and ``mesh-art sim compare``.

``node/cli/sim.py`` only registers these; all the work happens here and in the runner.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from simulator.phy import EU868_PRESETS
from simulator.protocols import PROTOCOLS
from simulator.report import ProgressBar, render_compare, render_run
from simulator.runner import RunSpec, compare, public, run
from simulator.scenarios import TopologyError


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
    parser.add_argument("--duty-rule", choices=("strict", "firmware"), default="strict",
                        help="strict: refuse a send that would pass the limit; firmware: refuse once above it")
    parser.add_argument("--full-horizon", action="store_true",
                        help="keep running after every node completed, to the end of --hours")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--plot", metavar="DIR", help="write PNG figures to DIR")


def spec_from(args: argparse.Namespace, protocol: str) -> RunSpec:
    """A RunSpec from parsed arguments."""
    return RunSpec(scenario=args.scenario, size=args.size, preset=args.preset, seed=args.seed, loss=args.loss,
                   protocol=protocol, hours=args.hours, duty_rule=args.duty_rule,
                   stop_on_complete=not args.full_horizon, workload=args.workload, works=args.works)


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
    """``sim compare``: gossip and flood on the same scenario and seed."""
    result = _execute(args, "compare")
    _emit(args, result, render_compare(result) if not args.json else "", [result["gossip"], result["flood"]])
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
    """Add ``sim run`` and ``sim compare`` to a sub-parser set; user errors raise ``error(message)``.

    Returns the ``sim`` sub-parsers, so other ``sim`` actions (the virtual radios) can join them.
    """
    sim = subparsers.add_parser("sim", help="simulate a mesh: LoRa physics on virtual time")
    sub = sim.add_subparsers(dest="sim_command", metavar="ACTION", required=True)
    run_parser = sub.add_parser("run", help="run one protocol on a scenario")
    add_common_arguments(run_parser)
    run_parser.add_argument("--protocol", choices=PROTOCOLS, default="gossip")
    run_parser.set_defaults(func=cmd_run, sim_error=error)
    compare_parser = sub.add_parser("compare", help="run gossip and flood on the same scenario and seed")
    add_common_arguments(compare_parser)
    compare_parser.set_defaults(func=cmd_compare, sim_error=error)
    return sub
