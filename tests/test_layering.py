"""Every import of every module obeys the "may import" table of docs/ARCHITECTURE.md.

The table is the data: its first column names places (a file, or a directory and everything
under it), its last column the module prefixes each place may import and, after "never", the
ones it must not. Imports inside functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("node", "simulator", "firmware_config", "tests", "benchmarks")
GROUND_FLOOR = "node.lora"


@dataclass(frozen=True)
class Place:
    """One row of the table."""

    paths: tuple[str, ...]
    allowed: tuple[str, ...]
    never: tuple[str, ...]

    def holds(self, rel: str) -> int:
        """How specifically this place holds the file ``rel`` (0: not at all)."""
        best = 0
        for path in self.paths:
            if rel == path or (path.endswith("/") and rel.startswith(path)):
                best = max(best, len(path))
        return best

    def own(self) -> tuple[str, ...]:
        """The module prefixes of the place itself (a place may always import itself)."""
        return tuple(path.removesuffix("/").removesuffix(".py").replace("/", ".") for path in self.paths)

    def permits(self, module: str) -> bool:
        """True when ``module`` may be imported from this place."""
        if any(covers(prefix, module) for prefix in self.never):
            return False
        if "*" in self.allowed or any(covers(prefix, module) for prefix in self.own()):
            return True
        if "stdlib" in self.allowed and module.split(".")[0] in sys.stdlib_module_names:
            return True
        return any(covers(prefix, module) for prefix in self.allowed)


def covers(prefix: str, module: str) -> bool:
    """True when ``module`` is ``prefix`` or inside it."""
    return module == prefix or module.startswith(prefix + ".")


def read_table() -> list[Place]:
    """The places of the "Packages and what they may import" table."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text.split("## Packages and what they may import", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    places = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        may, _, never = cells[-1].partition("**never**")
        places.append(Place(tuple(re.findall(r"`([^`]+)`", cells[0])), tuple(re.findall(r"`([^`]+)`", may)),
                            tuple(re.findall(r"`([^`]+)`", never))))
    return places


PLACES = read_table()


def module_files() -> list[Path]:
    """Every Python file of every package."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def place_of(rel: str) -> Place | None:
    """The most specific place holding ``rel``."""
    scored = [(place.holds(rel), i) for i, place in enumerate(PLACES)]
    score, index = max(scored)
    return PLACES[index] if score else None


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; ``from a import b`` yields ``a.b``."""
    rel_parts = path.relative_to(ROOT).with_suffix("").parts
    package = rel_parts[:-1]  # the package a relative import starts from (for __init__ too)
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return out


def test_the_table_is_read_and_every_place_may_use_the_ground_floor():
    assert len(PLACES) >= 10
    assert any("node/protocol/" in p.paths and "asyncio" in p.never for p in PLACES)
    for place in PLACES:
        assert place.permits(GROUND_FLOOR), f"{place.paths} may not import the ground floor"


@pytest.mark.parametrize("path", module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_is_allowed_by_the_table(path):
    rel = str(path.relative_to(ROOT))
    place = place_of(rel)
    assert place is not None, f"{rel} belongs to no place of the table in docs/ARCHITECTURE.md"
    bad = [f"line {line}: {module}" for line, module in imports(path) if not place.permits(module)]
    assert not bad, f"{rel} ({', '.join(place.paths)}) imports what the table does not allow: {bad}"


@pytest.mark.parametrize("path", sorted((ROOT / "node" / "protocol").glob("*.py")), ids=lambda p: p.name)
def test_the_core_draws_randomness_only_from_an_injected_random(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            assert all(alias.name != "random" or alias.asname is None for alias in node.names), "renames random"
        elif isinstance(node, ast.ImportFrom):
            assert node.module != "random", f"{path.name} imports names from random"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "random":
            assert node.attr == "Random", f"{path.name} uses random.{node.attr} (module-level randomness)"


def test_the_check_catches_a_violation():
    protocol = place_of("node/protocol/engine.py")
    assert protocol is not None
    assert not protocol.permits("asyncio") and not protocol.permits("node.daemon.driver")
    assert not protocol.permits("node.store.sqlite") and protocol.permits("node.store.base.WorkStore")
    assert place_of("node/protocol/engine.py") is not place_of("node/lora.py")
