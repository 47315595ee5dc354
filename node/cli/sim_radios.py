"""``mesh-art sim radios``: run a scenario's virtual Meshtastic radios on TCP ports, in real time.

``node/cli/sim.py`` (the simulator's commands) calls :func:`add_radios_command` on its ``sim``
sub-parsers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from node.cli import CommandError

DEFAULT_BASE_PORT = 4403


async def _run(args: argparse.Namespace) -> None:
    from simulator.virtual_radio import NetworkOptions, RadioNetwork, load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except (ValueError, KeyError, OSError) as exc:
        raise CommandError(str(exc)) from None
    options = NetworkOptions(host=args.host, base_port=args.base_port, preset=args.preset.upper(),
                             state_dir=Path(args.state_dir) if args.state_dir else None,
                             duty_window_s=args.duty_window, seed=args.seed)
    network = RadioNetwork(scenario, options)
    try:
        await network.start()
    except OSError as exc:
        raise CommandError(f"cannot listen from port {args.base_port}: {exc.strerror or exc}") from None
    print(f"scenario {scenario.name}: {len(network.radios)} virtual radios (Ctrl-C stops)")
    print(network.table(), flush=True)
    try:
        while True:
            await asyncio.sleep(args.status_every or 3600)
            if args.status_every:
                _print_status(network)
    finally:
        await network.close()


def _print_status(network: object) -> None:
    from simulator.virtual_radio import RadioNetwork

    assert isinstance(network, RadioNetwork)
    for radio in network.radios:
        c = radio.counters
        print(f"{radio.name}: sent {c.sent} relayed {c.relayed} received {c.received} delivered {c.delivered} "
              f"duty-refused {c.refused_duty_cycle} tx {radio.air_util_tx():.2f} %")
    if network.air is not None:
        a = network.air.counters
        print(f"air: {a.transmissions} transmissions, {a.receptions} receptions, {a.collisions} collisions, "
              f"{a.half_duplex_losses} half-duplex losses", flush=True)


def cmd_radios(args: argparse.Namespace) -> int:
    """Run until interrupted."""
    from node.lora import preset

    try:
        preset(args.preset)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 0
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True,
                        help="amsterdam, amsterdam-wide, grid:N, line:N, or a scenario JSON file")
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT,
                        help="TCP port of the first radio; the others follow in scenario order (default 4403)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--preset", default="MEDIUM_FAST", help="modem preset of radios without saved state")
    parser.add_argument("--state-dir", help="keep each radio's config here (NAME.json) across runs")
    parser.add_argument("--duty-window", type=float, default=3600.0,
                        help="seconds of the rolling duty-cycle window (default 3600, as firmware)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for contention delays")
    parser.add_argument("--status-every", type=float, default=0.0, help="print counters every N seconds")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.set_defaults(func=cmd_radios)


def add_radios_command(sim_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``radios`` to the ``mesh-art sim`` sub-commands."""
    _add_arguments(sim_subparsers.add_parser("radios", help="serve the scenario's virtual Meshtastic radios"))
