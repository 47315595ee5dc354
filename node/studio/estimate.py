"""What a work costs before it is signed: frames and airtime per preset, and time to every venue.

Airtime comes from :func:`node.artwork.cost.work_cost` (the same count ``mesh-art publish``
prints). The time until every venue holds the work comes from the simulator: one run of the
exhibition's scenario and preset, with a workload of just this work (its size and type),
published by the scenario's source at t = 0. Runs are cached by (size, type, preset, scenario)
and take a second or two.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from node.artwork.cost import WorkCost, work_cost
from node.artwork.endorsement import Endorsement
from node.artwork.keys import SecretKey
from node.artwork.publish import WorkMetadata, build_bundle

HORIZON_HOURS = 12.0
EXPENSIVE_SHARE = 0.25  # of one node's hourly airtime allowance
SEED = 1


@dataclass(frozen=True)
class Reach:
    """The simulated spread of one work over the exhibition's venues."""

    scenario: str
    preset: str
    venues: int
    reached: int
    everywhere_s: float | None  # None: not every venue within the horizon
    horizon_s: float


class EstimateUnavailable(RuntimeError):
    """The simulator is not installed (the ``sim`` extra: numpy, scipy)."""


@lru_cache(maxsize=64)
def time_to_every_venue(size: int, mime: str, preset: str, scenario: str) -> Reach:
    """Simulate this one work on the exhibition; when does the last venue hold it?

    Raises :class:`EstimateUnavailable` when the simulator's dependencies are missing (a node
    installed without the ``sim`` extra can still run the studio, without this estimate).
    """
    try:
        from simulator.runner import RunSpec, run
    except ImportError as exc:
        raise EstimateUnavailable(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="mesh-art-studio-") as folder:
        workload = Path(folder) / "this-work.json"
        workload.write_text(json.dumps({"works": [{"size": size, "mime": mime.split(";")[0].strip()}]}))
        result = run(RunSpec(scenario=scenario, preset=preset, seed=SEED, hours=HORIZON_HOURS,
                             workload=str(workload)))
    row = result["works"][0]
    return Reach(scenario=str(result["scenario"]), preset=str(result["preset"]), venues=int(result["node_count"]),
                 reached=int(row["nodes_holding"]), everywhere_s=row["everywhere_s"], horizon_s=HORIZON_HOURS * 3600)


def cost_of(manifest_bytes: int, content_size: int) -> WorkCost:
    """Frames and per-preset airtime of a work with a manifest of ``manifest_bytes``."""
    return work_cost(manifest_bytes, content_size)


def is_expensive(cost: WorkCost, preset: str) -> bool:
    """True when the work takes more than :data:`EXPENSIVE_SHARE` of an hour's allowance on ``preset``."""
    return any(pc.preset == preset and pc.budget_share > EXPENSIVE_SHARE for pc in cost.presets)


def manifest_estimate(content: bytes, mime: str, preview: bytes | None) -> int:
    """The signed manifest's length for this content, before the real metadata is known.

    Signed with throwaway keys and placeholder texts; the real manifest differs by the length of
    the titles, descriptions and names the artist types (the page shows the exact figure after
    signing).
    """
    artist = SecretKey.generate("artist")
    curator = SecretKey.generate("curator")
    endorsement = Endorsement.create(curator, artist.public, "Artist Name", 0)
    meta = WorkMetadata(title={"en": "Title of the work", "nl": "Titel van het werk"}, creator="Artist Name",
                        year=2026, artform="digital image", medium="digital image",
                        license="https://creativecommons.org/licenses/by-sa/4.0/",
                        alt={"en": "A short description of the image"} if mime.startswith("image/") else {})
    bundle = build_bundle(content, mime, meta, artist, endorsement, 0, preview,
                          "image/webp" if preview is not None else None)
    return len(bundle.signed.raw)
