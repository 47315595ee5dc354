"""The ``mesh-art`` command: one sub-command module per user task.

Each sub-command module exposes ``register(subparsers)``, which adds its sub-commands and sets
``func`` on their parsers; ``func(args) -> int`` is the exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from node.cli.terminal import printable


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
    # The sub-command modules import this package (CommandError, the shared arguments).
    from node.cli import (
        demo,
        keys,
        kit,
        node_cmds,
        publish,
        radio,
        revoke,
        sim,
        store_cmds,
        studio,
        takedown,
        verify,
    )

    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (keys, publish, verify, store_cmds, takedown, revoke, node_cmds, radio, kit, sim, demo, studio):
        module.register(subparsers)
    return parser


def _crash_log() -> Path:
    """Where unexpected failures are written in full (``$MESH_ART_CLI_LOG`` or the user's state dir)."""
    override = os.environ.get("MESH_ART_CLI_LOG")
    if override:
        return Path(override)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "mesh-art" / "cli-errors.log"


def _record_crash(argv: Sequence[str] | None) -> str:
    """Append the traceback of the exception being handled to the crash log; where it went."""
    text = f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} mesh-art {' '.join(argv or sys.argv[1:])}\n"
    text += traceback.format_exc()
    for path in (_crash_log(), Path(tempfile.gettempdir()) / f"mesh-art-cli-errors-{os.getuid()}.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(text)
            return str(path)
        except OSError:
            continue
    return "nowhere (no writable log location)"


def _quiet_stdout() -> None:
    """After a broken pipe (``mesh-art works | head``): send what is left to /dev/null, quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _leaf(exc: BaseException) -> BaseException:
    """The one failure inside (nested) exception groups, as asyncio's TaskGroup raises them."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _expected_message(exc: BaseException) -> str | None:
    """The one-line reason of an expected failure (None: unexpected, a bug)."""
    from node.artwork.errors import KeyFileError, VerificationError
    from node.config import ConfigError
    from node.store.base import StoreError

    if isinstance(exc, CommandError | ConfigError | KeyFileError | StoreError):
        return str(exc)
    if isinstance(exc, VerificationError):
        return f"REJECTED {exc.reason}: {exc.message}"
    if isinstance(exc, OSError):  # files, ports, devices: the OS said why
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "the input is too large to read"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mesh-art`` console script.

    Every failure ends as one line on stderr: ``mesh-art: error: <what failed>: <why>``. Expected
    failures (bad input, files, ports, a radio that does not answer) exit 1; anything unexpected
    exits 1 too, with its traceback written to the crash log and only a pointer to it shown.
    A closed pipe and Ctrl-C end quietly.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141  # as a shell reports a process ended by SIGPIPE
    except Exception as exc:
        failure = _leaf(exc)
        if isinstance(failure, BrokenPipeError):
            _quiet_stdout()
            return 141
        message = _expected_message(failure)
        if message is None:
            where = _record_crash(argv)
            message = f"unexpected {type(failure).__name__}: {str(failure)[:200]}; details in {where}"
        print(f"mesh-art: error: {printable(message)}", file=sys.stderr)  # it may quote a bundle's text
        return failure.status if isinstance(failure, CommandError) else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
