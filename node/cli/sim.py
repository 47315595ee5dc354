"""``mesh-art sim run|compare``: the mesh simulator (all logic lives in :mod:`simulator.cli`)."""

from __future__ import annotations

import argparse

from node.cli import CommandError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim run`` and ``sim compare``; simulator user errors become one-line CommandErrors."""
    from simulator.cli import register_sim

    register_sim(subparsers, error=CommandError)
