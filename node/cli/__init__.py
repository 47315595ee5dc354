"""The ``mesh-art`` command: one sub-command module per user task.

Each module in :data:`COMMAND_MODULES` exposes ``register(subparsers)``, which adds its
sub-commands and sets ``func`` on their parsers; ``func(args) -> int`` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from node.cli.terminal import printable

COMMAND_MODULES = (
    "node.cli.keys",
    "node.cli.publish",
    "node.cli.verify",
    "node.cli.store_cmds",
    "node.cli.takedown",
    "node.cli.node_cmds",
    "node.cli.radio",
    "node.cli.sim",
    "node.cli.demo",
    "node.cli.studio",
)


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1 (or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def add_trust_argument(parser: argparse.ArgumentParser) -> None:
    """``--trust CURATOR_PUB`` (repeatable), as every command that verifies works takes it."""
    parser.add_argument("--trust", action="append", default=[], metavar="CURATOR_PUB",
                        help="a trusted curator public key (.pub file or base64); repeatable")


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-dir DIR``, the node's data directory (required)."""
    parser.add_argument("--data-dir", required=True, help="the node's data directory")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="mesh-art",
        description="Mesh Art Node: signed artworks over Meshtastic LoRa, with an offline gallery.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mesh-art`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except CommandError as exc:
        print(f"mesh-art: error: {printable(exc)}", file=sys.stderr)  # it may quote a bundle's text
        return exc.status
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
