"""Scenarios: where the nodes are, which one publishes, and any per-link overrides.

``load_scenario(spec, seed)`` accepts a packaged name (``amsterdam``, ``amsterdam-wide``),
``grid:N``, ``random:N`` or a path to a topology JSON file (format in ``docs/simulator.md``).
Bad input raises :class:`TopologyError` with a one-line message.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

PACKAGED = ("amsterdam", "amsterdam-wide")
DEFAULT_ANTENNA_M = 10.0
CITY_CENTRE = (52.3700, 4.9000)  # grid and random scenarios are laid out around Amsterdam
GRID_SPACING_M = 2000.0
RANDOM_SPACING_M = 1500.0  # side of the random square is this times sqrt(N)
RANDOM_MAX_HOP_M = 2200.0  # each random node lands within this of an earlier one (connected)
LINK_STATES = ("up", "down")


class TopologyError(ValueError):
    """A scenario that cannot be used, with a one-line reason."""


@dataclass(frozen=True)
class NodeSpec:
    """One node: a name, a place and an antenna height."""

    name: str
    lat: float
    lon: float
    antenna_m: float = DEFAULT_ANTENNA_M
    label: str = ""


@dataclass(frozen=True)
class LinkOverride:
    """Per-link changes, applied in both directions."""

    a: str
    b: str
    state: str | None = None  # "up": always decodable (power raised to the usable level); "down": no signal
    extra_loss: float = 0.0  # probability a decodable frame is dropped anyway, on top of --loss
    extra_db: float = 0.0  # additional attenuation in dB


@dataclass(frozen=True)
class Reboot:
    """A node that goes down at ``at_s`` for ``down_s`` seconds and comes back with its store."""

    node: str
    at_s: float
    down_s: float


@dataclass(frozen=True)
class Topology:
    """A complete scenario."""

    name: str
    nodes: tuple[NodeSpec, ...]
    source: str
    links: tuple[LinkOverride, ...] = ()
    reboots: tuple[Reboot, ...] = field(default=())

    def index(self, name: str) -> int:
        """Position of node ``name``."""
        for i, node in enumerate(self.nodes):
            if node.name == name:
                return i
        raise KeyError(name)


def load_scenario(spec: str, seed: int = 1) -> Topology:
    """Resolve a scenario name, ``grid:N``, ``random:N`` or a topology file."""
    if spec in PACKAGED:
        text = resources.files(__name__).joinpath(f"{spec}.json").read_text(encoding="utf-8")
        return parse_topology(text, spec)
    if spec.startswith(("grid:", "random:")):
        kind, _, count_text = spec.partition(":")
        try:
            count = int(count_text)
        except ValueError:
            raise TopologyError(f"{spec}: the node count must be a whole number") from None
        if not 1 <= count <= 2000:
            raise TopologyError(f"{spec}: the node count must be between 1 and 2000")
        return grid(count) if kind == "grid" else random_topology(count, seed)
    path = Path(spec)
    if not path.is_file():
        raise TopologyError(
            f"unknown scenario {spec!r}: use {', '.join(PACKAGED)}, grid:N, random:N or a topology JSON file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(f"{path}: cannot read: {exc}") from None
    return parse_topology(text, str(path))


def _offset(north_m: float, east_m: float) -> tuple[float, float]:
    lat0, lon0 = CITY_CENTRE
    lat = lat0 + math.degrees(north_m / 6_371_000.0)
    lon = lon0 + math.degrees(east_m / (6_371_000.0 * math.cos(math.radians(lat0))))
    return round(lat, 6), round(lon, 6)


def grid(count: int) -> Topology:
    """``count`` nodes on a square grid, 2 km apart, 10 m antennas; the corner node publishes."""
    cols = math.ceil(math.sqrt(count))
    nodes = []
    for i in range(count):
        lat, lon = _offset(-(i // cols) * GRID_SPACING_M, (i % cols) * GRID_SPACING_M)
        nodes.append(NodeSpec(f"n{i}", lat, lon, DEFAULT_ANTENNA_M))
    return Topology(f"grid:{count}", tuple(nodes), "n0")


def random_topology(count: int, seed: int) -> Topology:
    """``count`` nodes scattered over a square, each near an earlier one; n0 publishes."""
    rng = random.Random(f"{seed}:topology")
    side = RANDOM_SPACING_M * math.sqrt(count)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        x, y = rng.uniform(0, side), rng.uniform(0, side)
        if not points or any(math.hypot(x - px, y - py) <= RANDOM_MAX_HOP_M for px, py in points):
            points.append((x, y))
    nodes = []
    for i, (x, y) in enumerate(points):
        lat, lon = _offset(side / 2 - y, x - side / 2)
        nodes.append(NodeSpec(f"n{i}", lat, lon, round(rng.uniform(6.0, 20.0), 1)))
    return Topology(f"random:{count}", tuple(nodes), "n0")


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise TopologyError(f"{what} must be a number in {low:g}..{high:g}, got {value!r}")
    return float(value)


def parse_topology(text: str, origin: str) -> Topology:
    """Parse and check a topology JSON document; ``origin`` names it in error messages."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TopologyError(f"{origin}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # an over-long integer literal; nesting beyond the stack
        raise TopologyError(f"{origin}: not usable JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise TopologyError(f"{origin}: the top level must be an object with 'nodes' and 'source'")
    raw_nodes = doc.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise TopologyError(f"{origin}: 'nodes' must be a non-empty list")
    nodes: list[NodeSpec] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_nodes):
        where = f"{origin}: nodes[{i}]"
        if not isinstance(raw, dict):
            raise TopologyError(f"{where} must be an object with name, lat, lon")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise TopologyError(f"{where} has no 'name'")
        where = f"{origin}: node {name!r}"
        if name in names:
            raise TopologyError(f"{origin}: duplicate node name {name!r}")
        names.add(name)
        if "lat" not in raw or "lon" not in raw:
            raise TopologyError(f"{where} needs both 'lat' and 'lon'")
        lat = _number(raw["lat"], f"{where}: lat", -90, 90)
        lon = _number(raw["lon"], f"{where}: lon", -180, 180)
        antenna = _number(raw.get("antenna_m", DEFAULT_ANTENNA_M), f"{where}: antenna_m", 0, 1000)
        label = raw.get("label", "")
        nodes.append(NodeSpec(name, lat, lon, antenna, label if isinstance(label, str) else ""))
    source = doc.get("source")
    if not isinstance(source, str):
        raise TopologyError(f"{origin}: 'source' must name the node that publishes the work")
    if source not in names:
        raise TopologyError(f"{origin}: source {source!r} is not one of the nodes")
    links = tuple(_parse_link(raw, i, names, origin) for i, raw in enumerate(_list(doc, "links", origin)))
    reboots = tuple(_parse_reboot(raw, i, names, origin) for i, raw in enumerate(_list(doc, "reboots", origin)))
    name = Path(origin).stem if origin not in PACKAGED else origin
    return Topology(name, tuple(nodes), source, links, reboots)


def _list(doc: dict[str, Any], key: str, origin: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise TopologyError(f"{origin}: '{key}' must be a list")
    return value


def _parse_link(raw: Any, i: int, names: set[str], origin: str) -> LinkOverride:
    where = f"{origin}: links[{i}]"
    if not isinstance(raw, dict):
        raise TopologyError(f"{where} must be an object with 'a' and 'b'")
    for end in ("a", "b"):
        if not isinstance(raw.get(end), str) or raw[end] not in names:
            raise TopologyError(f"{where}: {end} = {raw.get(end)!r} is not one of the nodes")
    if raw["a"] == raw["b"]:
        raise TopologyError(f"{where}: a link needs two different nodes")
    state = raw.get("state")
    if state is not None and state not in LINK_STATES:
        raise TopologyError(f"{where}: state must be 'up' or 'down', got {state!r}")
    extra_loss = _number(raw.get("extra_loss", 0.0), f"{where}: extra_loss", 0, 1)
    extra_db = _number(raw.get("extra_db", 0.0), f"{where}: extra_db", -100, 200)
    return LinkOverride(raw["a"], raw["b"], state, extra_loss, extra_db)


def _parse_reboot(raw: Any, i: int, names: set[str], origin: str) -> Reboot:
    where = f"{origin}: reboots[{i}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("node"), str) or raw["node"] not in names:
        raise TopologyError(f"{where}: 'node' must name one of the nodes")
    at_s = _number(raw.get("at_s"), f"{where}: at_s", 0, 1e7)
    down_s = _number(raw.get("down_s", 0.0), f"{where}: down_s", 0, 1e7)
    return Reboot(raw["node"], at_s, down_s)
