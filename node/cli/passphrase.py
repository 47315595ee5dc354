"""Passphrases for sealed key files: from ``MESH_ART_PASSPHRASE`` when set, else asked on the terminal.

The variable is for scripts and tests; people are asked, with nothing echoed.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from node.artwork.keys import Role, SecretKey
from node.artwork.keystore import check_new_passphrase, open_secret
from node.cli import CommandError

ENV_PASSPHRASE = "MESH_ART_PASSPHRASE"


def ask_passphrase(path: Path) -> str:
    """The passphrase that opens the sealed key at ``path``."""
    given = os.environ.get(ENV_PASSPHRASE)
    if given is not None:
        return given
    try:
        return getpass.getpass(f"passphrase for {path}: ")
    except EOFError:
        raise CommandError(f"{path} is encrypted: give its passphrase on a terminal or in {ENV_PASSPHRASE}") from None


def new_passphrase(path: Path) -> str:
    """A passphrase for a new sealed key at ``path``, typed twice (or from the environment)."""
    given = os.environ.get(ENV_PASSPHRASE)
    try:
        if given is not None:
            first, second = given, None
        else:
            first = getpass.getpass(f"new passphrase for {path}: ")
            second = getpass.getpass("the same passphrase again: ")
    except EOFError:
        raise CommandError(f"no passphrase for {path}: type it on a terminal or set {ENV_PASSPHRASE}") from None
    try:
        check_new_passphrase(first, second)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return first


def read_secret(path: Path, role: Role) -> SecretKey:
    """A private key file of either format (plain, or sealed and opened with its passphrase)."""
    return open_secret(path, role, passphrase=ask_passphrase)
