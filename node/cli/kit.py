"""``mesh-art kit``: the curator's exhibition kit (trust anchor, channel key, venue profiles, QR)."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from node.cli import CommandError

if TYPE_CHECKING:
    from firmware_config.kit import Venue

PSK_BYTES = 32  # AES-256


def _partners(args: argparse.Namespace) -> list[Venue]:
    from firmware_config.kit import Venue

    lines = list(args.partner)
    if args.partners:
        try:
            text = Path(args.partners).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{args.partners}: cannot read the partner list: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
        lines += [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [Venue.parse(line) for line in lines]


def cmd_new(args: argparse.Namespace) -> int:
    """Make the kit every venue installs from."""
    from firmware_config.kit import KitError, make_kit

    try:
        kit = make_kit(Path(args.out), Path(args.curator), args.exhibition, _partners(args),
                       secrets.token_bytes(PSK_BYTES))
    except KitError as exc:
        raise CommandError(str(exc)) from None
    print(f"kit written to {kit.path}: {len(kit.venues)} venues ({', '.join(v.id for v in kit.venues)}), "
          f"{kit.region} {kit.preset}, channel {kit.channel_name!r}")
    print(f"give a copy to every venue; it holds the channel key ({kit.key_file.name}), keep it private")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Describe a kit (never its key)."""
    from firmware_config.kit import KitError, load_kit

    try:
        kit = load_kit(Path(args.kit))
        kit.psk()
    except KitError as exc:
        raise CommandError(str(exc)) from None
    print(f"exhibition {kit.exhibition!r}: {kit.region} {kit.preset}, channel {kit.channel_name!r}")
    for venue in kit.venues:
        print(f"  {venue.id:<12} {venue.label:<28} {venue.lat:.5f} {venue.lon:.5f}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kit new`` and ``kit show``."""
    kit = subparsers.add_parser("kit", help="the curator's exhibition kit: trust, channel key, venue profiles")
    sub = kit.add_subparsers(dest="kit_command", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="make the kit every venue installs from")
    new.add_argument("--curator", required=True, metavar="CURATOR_PUB", help="the curator's public key (.pub)")
    new.add_argument("--out", required=True, metavar="DIR", help="new kit directory")
    new.add_argument("--exhibition", default="Mesh Art", help="the exhibition's name")
    new.add_argument("--partner", action="append", default=[], metavar="ID,LAT,LON[,NAME]",
                     help="a partner venue (repeatable), e.g. mediamatic,52.3716,4.9261,Mediamatic")
    new.add_argument("--partners", metavar="FILE", help="a file of partner venues, one ID,LAT,LON[,NAME] a line")
    new.set_defaults(func=cmd_new)
    show = sub.add_parser("show", help="describe a kit (its venues, region, preset; never the key)")
    show.add_argument("kit", metavar="DIR")
    show.set_defaults(func=cmd_show)
