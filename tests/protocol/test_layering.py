"""node/protocol stays sans-IO: no clocks, sockets, threads, event loops or global randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROTOCOL = Path(__file__).resolve().parents[2] / "node" / "protocol"
FORBIDDEN = {"asyncio", "time", "socket", "threading", "aiohttp", "meshtastic", "os", "datetime", "secrets"}


def modules():
    return sorted(PROTOCOL.glob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_no_io_clock_or_global_random_imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                assert root not in FORBIDDEN, f"{path.name} imports {alias.name}"
                if root == "random":
                    assert alias.asname is None, f"{path.name} renames random"
        elif isinstance(node, ast.ImportFrom) and node.module:
            root = node.module.split(".")[0]
            assert root not in FORBIDDEN, f"{path.name} imports from {node.module}"
            assert root != "random", f"{path.name} imports names from random"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "random":
            assert node.attr == "Random", f"{path.name} uses random.{node.attr} (module-level randomness)"


def test_the_check_sees_every_module():
    names = {p.name for p in modules()}
    assert {"engine.py", "frames.py", "ledger.py", "trickle.py"} <= names
