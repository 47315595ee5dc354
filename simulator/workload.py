"""What a simulation disseminates: one work or a whole exhibition, and the keys of the network.

A workload is a list of signed works, each with the venue that publishes it, the time it is
published and an optional curator priority. Three ways to get one:

* ``--size N`` alone: one work of N bytes, published by the scenario's source at t = 0;
* ``--works N``: N works of ``--size`` bytes, published round-robin at the venues at t = 0;
* ``--workload exhibition`` (the named default) or ``--workload FILE`` (JSON, format in
  ``docs/simulator.md``).

Everything is derived from the run's seed, so two runs with the same seed carry byte-identical
signed bundles. Bad workload files raise :class:`WorkloadError` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from node.artwork import Endorsement, SecretKey, TrustAnchors, WorkMetadata, build_bundle
from node.artwork.bundle import Bundle
from node.artwork.manifest import MAX_PREVIEW_BYTES, MAX_WORK_SIZE
from simulator.scenarios import Topology

CREATED = 1_790_000_000  # fixed creation time, so bundles do not depend on the wall clock
VENUES = ("nemo", "oba", "waag", "zwijger")  # the four founding venues, in publishing rotation
ARTISTS = 5
PREVIEW_BYTES = 1024  # what ``mesh-art publish`` makes for an image: a ~1 KiB thumbnail
NAMED = ("exhibition",)
KINDS = {"image": "image/webp", "text": "text/plain", "audio": "audio/ogg", "other": "application/octet-stream"}
_FILE_KEYS = {"size", "mime", "venue", "at_s", "priority", "title"}


class WorkloadError(ValueError):
    """A workload that cannot be used, with a one-line reason."""


@dataclass(frozen=True)
class WorkSpec:
    """One work of a workload before it is signed."""

    size: int
    mime: str = KINDS["other"]
    venue: str | None = None  # None: the next venue in rotation
    at_s: float = 0.0
    priority: int | None = None  # lower is more urgent; None: publishing order

    @property
    def kind(self) -> str:
        """image, text, audio or other, from the MIME type."""
        top = self.mime.split("/", 1)[0]
        return top if top in ("image", "text", "audio") else "other"


@dataclass(frozen=True)
class PublishedWork:
    """A signed work, where and when it enters the mesh."""

    index: int
    bundle: Bundle
    venue: str
    at_s: float
    priority: int | None
    kind: str

    @property
    def work_id(self) -> bytes:
        """The work's full id (SHA-256 of its signed manifest)."""
        return self.bundle.work_id

    @property
    def size(self) -> int:
        """Content bytes."""
        return self.bundle.signed.manifest.size

    @property
    def manifest_bytes(self) -> int:
        """Bytes of the signed manifest (hash list, preview, endorsement)."""
        return len(self.bundle.signed.raw)


@dataclass(frozen=True)
class Workload:
    """The curator's trust anchors and the signed works the venues publish."""

    trust: TrustAnchors
    works: tuple[PublishedWork, ...]
    seed: int
    name: str

    @property
    def bundle(self) -> Bundle:
        """The only work of a one-work workload (attackers and older tools use this)."""
        if len(self.works) != 1:
            raise ValueError("this workload has several works")
        return self.works[0].bundle

    def node_key(self, name: str) -> SecretKey:
        """The identity key of node ``name`` in this run."""
        return SecretKey.from_seed_text(f"sim-{self.seed}-node-{name}", "node")


def pseudo_random_bytes(size: int, label: str) -> bytes:
    """Incompressible deterministic content."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def exhibition_specs() -> list[WorkSpec]:
    """The named ``exhibition``: 20 works of mixed kinds published at the four venues over the first hour.

    Ten images of 8-24 KiB, six texts of 1-4 KiB and four audio works of 16-24 KiB, in a fixed order
    (the same for every seed, so seeds vary the channel, not the job): one work every three minutes,
    round-robin over the venues.
    """
    rng = random.Random("mesh-art-exhibition")
    kinds = ["image"] * 10 + ["text"] * 6 + ["audio"] * 4
    rng.shuffle(kinds)
    ranges = {"image": (8, 24), "text": (1, 4), "audio": (16, 24)}
    specs = []
    for i, kind in enumerate(kinds):
        low, high = ranges[kind]
        size = rng.randrange(low * 1024, high * 1024 + 1)
        specs.append(WorkSpec(size, KINDS[kind], VENUES[i % len(VENUES)], at_s=180.0 * i))
    return specs


def uniform_specs(count: int, size: int) -> list[WorkSpec]:
    """``count`` works of ``size`` bytes, published round-robin at the venues at t = 0."""
    if not 1 <= count <= 500:
        raise WorkloadError(f"--works must be 1..500, got {count}")
    return [WorkSpec(size) for _ in range(count)]


def load_workload_file(path: str | Path) -> list[WorkSpec]:
    """Parse a workload JSON file: ``{"works": [{"size": 24576, "mime": "image/webp", "venue": "nemo",
    "at_s": 0, "priority": 1}, ...]}``; every key but ``size`` is optional."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkloadError(f"workload file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadError(f"workload file {p} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise WorkloadError(f"workload file {p} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("works"), list) or not doc["works"]:
        raise WorkloadError(f"workload file {p} must be an object with a non-empty list \"works\"")
    return [_spec_from(entry, i, p) for i, entry in enumerate(doc["works"])]


def _spec_from(entry: object, i: int, path: Path) -> WorkSpec:
    where = f"{path}: works[{i}]"
    if not isinstance(entry, dict):
        raise WorkloadError(f"{where} must be an object")
    unknown = sorted(set(entry) - _FILE_KEYS)
    if unknown:
        raise WorkloadError(f"{where} has unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_FILE_KEYS))}")
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_WORK_SIZE:
        raise WorkloadError(f"{where}: size must be an integer 1..{MAX_WORK_SIZE}, got {size!r}")
    mime = entry.get("mime", KINDS["other"])
    if not isinstance(mime, str) or "/" not in mime:
        raise WorkloadError(f"{where}: mime must be a MIME type such as image/webp, got {mime!r}")
    venue = entry.get("venue")
    if venue is not None and not isinstance(venue, str):
        raise WorkloadError(f"{where}: venue must be a node name, got {venue!r}")
    at_s = entry.get("at_s", 0.0)
    if not isinstance(at_s, int | float) or isinstance(at_s, bool) or not 0 <= at_s <= 30 * 86400:
        raise WorkloadError(f"{where}: at_s must be seconds 0..2592000, got {at_s!r}")
    priority = entry.get("priority")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        raise WorkloadError(f"{where}: priority must be an integer (lower is more urgent), got {priority!r}")
    return WorkSpec(size, mime, venue, float(at_s), priority)


def resolve_specs(workload: str | None, works: int | None, size: int) -> tuple[str, list[WorkSpec]]:
    """The workload's name and specs from the command-line choices (``--workload``, ``--works``, ``--size``)."""
    if workload is not None and works is not None:
        raise WorkloadError("give either --workload or --works, not both")
    if workload in NAMED:
        return workload, exhibition_specs()
    if workload is not None:
        return Path(workload).name, load_workload_file(workload)
    if works is not None:
        return f"{works}x{size}", uniform_specs(works, size)
    return f"1x{size}", [WorkSpec(size)]


def publishing_venues(topology: Topology) -> list[str]:
    """The venues that publish, in rotation order.

    The four founding venues where the scenario has them; otherwise the source and three nodes
    spread through the node list (grid and random scenarios).
    """
    names = [n.name for n in topology.nodes]
    present = [v for v in VENUES if v in names]
    if len(present) == len(VENUES):
        return present
    n = len(names)
    picks = [topology.source] + [names[(k * n) // 4] for k in range(1, 4)]
    return list(dict.fromkeys(picks))


def make_workload(specs: Sequence[WorkSpec], seed: int, topology: Topology, name: str = "") -> Workload:
    """Sign every work of ``specs`` for a run on ``topology``.

    A one-work workload without a venue is published by the scenario's source; otherwise works
    without a venue take the publishing venues in rotation. Unknown venue names raise WorkloadError.
    """
    names = {n.name for n in topology.nodes}
    rotation = [topology.source] if len(specs) == 1 else publishing_venues(topology)
    curator = SecretKey.from_seed_text(f"sim-{seed}-curator", "curator")
    artists = [SecretKey.from_seed_text(f"sim-{seed}-artist" + (f"-{a}" if a else ""), "artist")
               for a in range(ARTISTS)]
    endorsements = [Endorsement.create(curator, key.public, f"Sim Artist {a + 1}", CREATED - 86400)
                    for a, key in enumerate(artists)]
    published = []
    for i, spec in enumerate(specs):
        venue = spec.venue if spec.venue is not None else rotation[i % len(rotation)]
        if venue not in names:
            raise WorkloadError(f"work {i} is published at {venue!r}, which is not a node of {topology.name}")
        a = i % ARTISTS
        bundle = _sign(spec, i, seed, artists[a], endorsements[a], f"Sim Artist {a + 1}")
        published.append(PublishedWork(i, bundle, venue, spec.at_s, spec.priority, spec.kind))
    return Workload(TrustAnchors([curator.public]), tuple(published), seed, name or f"{len(specs)} works")


def _sign(spec: WorkSpec, i: int, seed: int, artist: SecretKey, endorsement: Endorsement, creator: str) -> Bundle:
    label = f"sim-{seed}-work" if i == 0 else f"sim-{seed}-work-{i}"
    is_image = spec.mime.startswith("image/")
    meta = WorkMetadata(
        title={"en": f"Simulated work {i + 1}", "nl": f"Gesimuleerd werk {i + 1}"},
        creator=creator,
        year=2026,
        artform="digital art",
        medium=spec.kind,
        license="https://creativecommons.org/licenses/by-sa/4.0/",
        alt={"en": f"Simulated image {i + 1}"} if is_image else {},
    )
    preview = pseudo_random_bytes(min(PREVIEW_BYTES, MAX_PREVIEW_BYTES), f"{label}-preview") if is_image else None
    return build_bundle(pseudo_random_bytes(spec.size, label), spec.mime, meta, artist, endorsement, CREATED,
                        preview=preview, preview_mime="image/webp" if is_image else None)
