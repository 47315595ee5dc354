"""``mesh-art demo``: the whole Mesh Art Network on one machine."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from node.cli import CommandError
from node.demo.runner import DemoMesh, DemoOptions
from simulator.scenarios import TopologyError


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C."""
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(levelname)s %(name)s %(message)s")
    if args.speed <= 0 or args.speed > 1000:
        raise CommandError("--speed must be between 0 and 1000")
    options = DemoOptions(data_dir=Path(args.data_dir) if args.data_dir else None, scenario=args.scenario,
                          preset=args.preset, speed=args.speed, base_port=args.base_port, host=args.host,
                          seed=args.seed)
    try:
        mesh = DemoMesh(options)
    except (TopologyError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    try:
        asyncio.run(mesh.run())
    except* OSError as group:
        raise CommandError(f"cannot start the demo: {group.exceptions[0]}") from None
    print("demo stopped", flush=True)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    demo = subparsers.add_parser("demo", help="run four venue nodes with their galleries on a simulated LoRa channel")
    demo.add_argument("--data-dir", help="keep the nodes' stores here between runs (default: a temporary directory)")
    demo.add_argument("--scenario", default="amsterdam", help="amsterdam (default), amsterdam-wide or a topology file")
    demo.add_argument("--preset", default="MEDIUM_FAST", help="Meshtastic modem preset (default MEDIUM_FAST)")
    demo.add_argument("--speed", type=float, default=1.0, help="run the radio and protocol clocks this much faster")
    demo.add_argument("--base-port", type=int, default=8401, help="first gallery port (default 8401)")
    demo.add_argument("--host", default="127.0.0.1", help="address the galleries listen on")
    demo.add_argument("--seed", type=int, default=1, help="seed for the channel and the nodes' randomness")
    demo.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    demo.set_defaults(func=cmd_demo)
