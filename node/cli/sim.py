"""``mesh-art sim run|compare``: the mesh simulator (all logic lives in :mod:`simulator.cli`)."""

from __future__ import annotations

import argparse

from node.cli import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim run``, ``sim compare`` and ``sim radios``; user errors become one-line CommandErrors."""
    from node.cli.sim_radios import add_radios_command
    from simulator.cli import register_sim

    add_radios_command(register_sim(subparsers, error=CommandError))
