"""Which radios a scenario has and where they stand, plus an optional explicit link table.

Accepts a scenario name from ``simulator/scenarios/NAME.json`` (amsterdam, amsterdam-wide),
a path to such a JSON file (``{"nodes": [{"name", "lat", "lon", "antenna_m"}], "links": [...]}``),
or a generated layout: ``grid:N`` (square grid, 800 m spacing) or ``line:N`` (a chain, 1.5 km
spacing, so only neighbours hear each other).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.virtual_radio.links import Link, LinkModel, Site, TableLinks, link_model_for

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
ORIGIN = (52.3730, 4.8925)  # Amsterdam centre, where generated layouts start
METRES_PER_DEG_LAT = 111_320.0


@dataclass
class Scenario:
    """The radios to run and the channel model between them."""

    name: str
    sites: list[Site]
    links: LinkModel


def _offset(north_m: float, east_m: float) -> tuple[float, float]:
    lat = ORIGIN[0] + north_m / METRES_PER_DEG_LAT
    lon = ORIGIN[1] + east_m / (METRES_PER_DEG_LAT * math.cos(math.radians(ORIGIN[0])))
    return lat, lon


def generated_sites(kind: str, count: int) -> list[Site]:
    """Sites for ``grid:N`` or ``line:N``."""
    if count < 1:
        raise ValueError(f"{kind}:{count} needs at least one node")
    if kind == "grid":
        side = math.ceil(math.sqrt(count))
        return [Site(f"n{i}", *_offset((i // side) * 800.0, (i % side) * 800.0), 15.0) for i in range(count)]
    if kind == "line":
        return [Site(f"n{i}", *_offset(0.0, i * 1500.0), 10.0) for i in range(count)]
    raise ValueError(f"unknown layout {kind!r}; use grid:N or line:N")


def _sites_from_json(data: dict[str, Any]) -> list[Site]:
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise ValueError("a scenario file needs a non-empty 'nodes' list")
    return [Site(str(n["name"]), float(n["lat"]), float(n["lon"]), float(n.get("antenna_m", 10.0)))
            for n in nodes]


def _table_from_json(data: dict[str, Any], sites: list[Site]) -> TableLinks | None:
    """An explicit ``links`` list: ``{"from", "to", "snr", "rssi", "both_ways"?}`` by node name."""
    entries = data.get("links")
    if entries is None:
        return None
    index = {site.name: i for i, site in enumerate(sites)}
    table: dict[tuple[int, int], Link] = {}
    for entry in entries:
        a, b = index[entry["from"]], index[entry["to"]]
        link = Link(float(entry.get("snr", 5.0)), float(entry.get("rssi", -100.0)))
        table[(a, b)] = link
        if entry.get("both_ways", True):
            table[(b, a)] = link
    return TableLinks(table)


def load_scenario(spec: str) -> Scenario:
    """Resolve a ``--scenario`` argument to sites and a link model."""
    if ":" in spec and not Path(spec).exists():
        kind, _, count = spec.partition(":")
        sites = generated_sites(kind, int(count))
        return Scenario(spec, sites, link_model_for(sites))
    path = Path(spec)
    if not path.exists():
        path = SCENARIO_DIR / f"{spec}.json"
    if not path.exists():
        known = sorted(p.stem for p in SCENARIO_DIR.glob("*.json"))
        raise ValueError(f"unknown scenario {spec!r}; use a file, grid:N, line:N or one of {', '.join(known)}")
    data = json.loads(path.read_text())
    sites = _sites_from_json(data)
    names = [site.name for site in sites]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario {spec!r} has duplicate node names")
    table = _table_from_json(data, sites)
    return Scenario(path.stem, sites, table if table is not None else link_model_for(sites))
