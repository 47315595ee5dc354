"""Building a signed bundle from content and metadata (the artist side)."""

from __future__ import annotations

from dataclasses import dataclass, field

from node.artwork import chunks
from node.artwork.bundle import Bundle
from node.artwork.endorsement import Endorsement
from node.artwork.keys import SecretKey
from node.artwork.licences import normalise_licence
from node.artwork.manifest import MAX_WORK_SIZE, Manifest


@dataclass
class WorkMetadata:
    """What an artist says about a work; mapped onto the manifest fields."""

    title: dict[str, str]
    creator: str
    year: int
    artform: str
    medium: str
    license: str
    attribution: str = ""
    description: dict[str, str] = field(default_factory=dict)
    alt: dict[str, str] = field(default_factory=dict)
    origin: str | None = None


def default_artform(mime: str) -> str:
    """An NDE-style art form guess from the MIME type (override with --artform)."""
    if mime.startswith("image/"):
        return "digital image"
    if mime.startswith("audio/"):
        return "sound art"
    if mime.startswith("text/"):
        return "poetry"
    return "digital art"


def default_medium(mime: str) -> str:
    """A medium description from the MIME type (override with --medium)."""
    kind, _, sub = mime.partition("/")
    sub = sub.removeprefix("x-").split("+")[0].upper()
    return f"digital {kind} ({sub})" if sub else f"digital {kind}"


def build_bundle(
    content: bytes,
    mime: str,
    meta: WorkMetadata,
    artist_key: SecretKey,
    endorsement: Endorsement,
    created: int,
    preview: bytes | None = None,
    preview_mime: str | None = None,
) -> Bundle:
    """Sign ``content`` as a bundle. Raises ``ValueError`` on inconsistent input."""
    if artist_key.role != "artist":
        raise ValueError(f"works are signed with an artist key, not a {artist_key.role} key")
    if endorsement.artist != artist_key.public.raw:
        raise ValueError("the endorsement is for a different artist key")
    if not 0 < len(content) <= MAX_WORK_SIZE:
        raise ValueError(f"the work is {len(content)} bytes; it must be 1..{MAX_WORK_SIZE}")
    if mime.startswith("image/") and not meta.alt:
        raise ValueError("a visual work needs alt text (--alt)")
    licence = normalise_licence(meta.license)
    attribution = meta.attribution or f"{meta.title.get('en') or next(iter(meta.title.values()))} by {meta.creator}"
    manifest = Manifest(
        title=meta.title,
        description=meta.description,
        alt=meta.alt,
        creator=meta.creator,
        year=meta.year,
        artform=meta.artform,
        medium=meta.medium,
        license=licence,
        attribution=attribution,
        mime=mime,
        size=len(content),
        created=created,
        origin=meta.origin,
        content_hash=chunks.content_hash(content),
        chunk_hashes=chunks.hash_list(content),
        artist=artist_key.public.raw,
        endorsement=endorsement,
        preview=preview,
        preview_mime=preview_mime if preview is not None else None,
    )
    return Bundle(manifest.sign(artist_key), content)
