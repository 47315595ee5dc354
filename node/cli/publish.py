"""``mesh-art publish``: turn a file into a signed bundle and show what it costs on air."""

from __future__ import annotations

import argparse
import io
import re
import time
from pathlib import Path

from PIL import Image

from node.artwork.bundle import Bundle, read_bundle
from node.artwork.cost import cost_table, work_cost
from node.artwork.encode import CODECS, EncodeError, fit_image, is_raster, make_preview, sniff_mime
from node.artwork.endorsement import Endorsement, TrustAnchors
from node.artwork.errors import KeyFileError, VerificationError
from node.artwork.keys import PublicKey, SecretKey
from node.artwork.licences import licence_name, normalise_licence
from node.artwork.manifest import MAX_WORK_SIZE
from node.artwork.publish import WorkMetadata, build_bundle, default_artform, default_medium
from node.cli import CommandError
from node.cli.passphrase import read_secret
from node.cli.verify import read_file

_UNITS = {"": 1, "b": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 1024**2, "mib": 1024**2, "mb": 1000**2}


def parse_size(text: str) -> int:
    """``24KiB``, ``24k`` (both 24576), ``24kB`` (24000) or a plain byte count."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise CommandError(f"cannot read size {text!r}; write e.g. 24KiB or 20000")
    return int(float(match.group(1)) * _UNITS[unit])


def load_endorsement(path: str, artist: SecretKey, now: int) -> Endorsement:
    """Read the endorsement file and check it matches the key, holds and has not expired."""
    try:
        endorsement = Endorsement.from_bytes(read_file(path, "endorsement"))
        endorsement.verify(TrustAnchors([PublicKey(endorsement.curator)]), at=now)
    except VerificationError as exc:
        raise CommandError(f"{path}: not a usable endorsement ({exc.reason}: {exc.message})") from None
    if endorsement.artist != artist.public.raw:
        raise CommandError(f"{path} endorses key {PublicKey(endorsement.artist).fingerprint}, "
                           f"but --key is {artist.public.fingerprint}")
    return endorsement


def prepare_content(path: Path, data: bytes, budget: int | None, codec: str) -> tuple[bytes, str, list[str]]:
    """The bytes to publish, their MIME type and notes for the user (re-encoding applied)."""
    mime = sniff_mime(path, data)
    notes: list[str] = []
    limit = min(budget, MAX_WORK_SIZE) if budget else MAX_WORK_SIZE
    if len(data) <= limit:
        if is_raster(mime) and _has_exif(data):
            notes.append("note: the file carries EXIF metadata (camera, maybe GPS); it is published as is. "
                         "Strip it first, or use a smaller --budget to re-encode without it.")
        return data, mime, notes
    if not is_raster(mime):
        hint = "" if budget else " (only raster images can be re-encoded with --budget)"
        raise CommandError(f"{path.name} is {len(data):,} bytes of {mime}, over the limit of {limit:,} bytes{hint}")
    if budget is None:
        raise CommandError(f"{path.name} is {len(data):,} bytes, over the {MAX_WORK_SIZE:,}-byte limit; "
                           "add --budget 24KiB to re-encode it")
    try:
        encoded = fit_image(data, limit, codec)
    except EncodeError as exc:
        raise CommandError(f"{path.name}: {exc}") from None
    with Image.open(io.BytesIO(data)) as original:
        before = f"{original.width}x{original.height} {original.format}"
    notes.append(f"re-encoded {path.name} ({len(data):,} bytes, {before}) as {codec.upper()} "
                 f"{encoded.width}x{encoded.height} quality {encoded.quality}: {len(encoded.data):,} bytes "
                 f"(budget {limit:,})")
    return encoded.data, encoded.mime, notes


def _has_exif(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return bool(image.getexif())
    except Exception:
        return False


def _lang_map(en: str | None, nl: str | None) -> dict[str, str]:
    return {lang: text for lang, text in (("en", en), ("nl", nl)) if text}


def cmd_publish(args: argparse.Namespace) -> int:
    """Build, self-check and write a bundle; print its cost on air."""
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists; use --force to overwrite")
    now = int(time.time())
    try:
        artist = read_secret(Path(args.key), "artist")
    except KeyFileError as exc:
        raise CommandError(str(exc)) from None
    endorsement = load_endorsement(args.endorsement, artist, now)
    source = Path(args.file)
    data = read_file(args.file, "file")
    try:
        licence = normalise_licence(args.license)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    budget = parse_size(args.budget) if args.budget else None
    alt = _lang_map(args.alt, args.alt_nl)
    source_mime = sniff_mime(source, data)
    if source_mime.startswith("image/") and not alt:
        raise CommandError(f"{source.name} is an image ({source_mime}); describe it for visitors who cannot "
                           "see it with --alt (and --alt-nl)")
    content, mime, notes = prepare_content(source, data, budget, args.codec)
    preview = None
    if is_raster(mime):
        try:
            preview = make_preview(content)
            notes.append(f"preview: {len(preview)}-byte WebP thumbnail")
        except EncodeError:
            notes.append("preview: none (the image is too unusual to thumbnail)")
    meta = WorkMetadata(
        title=_lang_map(args.title, args.title_nl),
        creator=args.creator or endorsement.name,
        year=args.year or time.gmtime(now).tm_year,
        artform=args.artform or default_artform(mime),
        medium=args.medium or default_medium(mime),
        license=licence,
        attribution=args.attribution or "",
        description=_lang_map(args.description, args.description_nl),
        alt=alt,
        origin=args.origin,
    )
    try:
        bundle = build_bundle(content, mime, meta, artist, endorsement, now, preview,
                              "image/webp" if preview else None)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    blob = self_check(bundle, endorsement, now)
    out.write_bytes(blob)
    for note in notes:
        print(note)
    m = bundle.signed.manifest
    print(f"bundle written to {out}: {len(blob):,} bytes ({mime}, {m.size:,} content + {len(bundle.signed.raw):,} "
          f"manifest), {licence_name(licence)}")
    print(f"work id {bundle.work_id.hex()}")
    for line in cost_table(work_cost(len(bundle.signed.raw), m.size)):
        print(line)
    return 0


def self_check(bundle: Bundle, endorsement: Endorsement, now: int) -> bytes:
    """Serialise and verify the bundle the way a node will, against the endorsing curator."""
    blob = bundle.to_bytes()
    try:
        read_bundle(blob, TrustAnchors([PublicKey(endorsement.curator)]), at=now)
    except VerificationError as exc:  # a bug, not a user error; say so plainly
        raise CommandError(f"internal error: the new bundle does not verify ({exc})") from None
    return blob


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``publish``."""
    p = subparsers.add_parser("publish", help="sign a file as a bundle and show its cost on air")
    p.add_argument("file", metavar="FILE", help="the work: an image, text, audio or SVG file")
    p.add_argument("--key", required=True, help="your artist private key file (plain or encrypted)")
    p.add_argument("--endorsement", required=True, help="the endorsement file the curator gave you")
    p.add_argument("--title", required=True, help="title in English")
    p.add_argument("--title-nl", help="title in Dutch")
    p.add_argument("--description", help="description in English")
    p.add_argument("--description-nl", help="description in Dutch")
    p.add_argument("--alt", help="alt text in English (required for images)")
    p.add_argument("--alt-nl", help="alt text in Dutch")
    p.add_argument("--license", required=True, help="Creative Commons licence URI or short name (cc-by-sa-4)")
    p.add_argument("--attribution", help="attribution line (default: 'TITLE by CREATOR')")
    p.add_argument("--creator", help="creator name (default: the name in the endorsement)")
    p.add_argument("--year", type=int, help="year of creation (default: this year)")
    p.add_argument("--artform", help="art form, e.g. 'generative art' (default from the file type)")
    p.add_argument("--medium", help="medium or technique (default from the file type)")
    p.add_argument("--origin", metavar="VENUE", help="the venue where the work was made or first shown")
    p.add_argument("--budget", help="largest content size, e.g. 24KiB; images are re-encoded to fit")
    p.add_argument("--codec", choices=CODECS, default="webp",
                   help="format for re-encoded images (default webp; avif is smaller but less widely shown)")
    p.add_argument("--out", required=True, help="bundle file to write (.meshart)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=cmd_publish)
