"""``mesh-art radio``: check, render, apply and export venue radio profiles; channel QR codes.

The channel key and the venue profiles come from the curator's exhibition kit (``--kit DIR``,
made by ``mesh-art kit new``), so every venue's radio joins the same channel; ``--psk-file``
names an existing key file instead. No command here ever invents a key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from node.cli import CommandError


def _kit(args: argparse.Namespace) -> object | None:
    from firmware_config.kit import KitError, load_kit

    if not getattr(args, "kit", None):
        return None
    try:
        return load_kit(Path(args.kit))
    except KitError as exc:
        raise CommandError(str(exc)) from None


def _load(name: str, kit: object | None = None) -> object:
    from firmware_config.kit import Kit, KitError
    from firmware_config.profile import ProfileError, load_profile

    try:
        if isinstance(kit, Kit) and not Path(name).is_file():
            return kit.profile(name)
        return load_profile(name)
    except (ProfileError, KitError) as exc:
        raise CommandError(str(exc)) from None


def _check_connected_radio(args: argparse.Namespace, kit: object | None) -> int:
    """The radio-safety rules on a connected radio, against the kit when given."""
    from firmware_config.device import RadioAddress, connect
    from firmware_config.kit import Kit, KitError
    from firmware_config.safety import radio_findings
    from node.transport.meshtastic_radio import ignored_node_ids

    address = _address(args)
    assert isinstance(address, RadioAddress)
    try:
        expected = kit.expectation() if isinstance(kit, Kit) else None
    except KitError as exc:
        raise CommandError(str(exc)) from None
    try:
        with connect(address, timeout=args.timeout) as interface:
            node = interface.localNode
            primary = node.channels[0].settings if node.channels else None
            found = radio_findings(node.localConfig, primary, ignored_node_ids(interface), expected)
    except Exception as exc:  # the library raises its own MeshInterfaceError and bare Exceptions
        raise CommandError(f"cannot read the radio at {address}: {exc}") from None
    for finding in found:
        print(f"{address}: {finding.text}")
    if not found and not args.quiet:
        print(f"{address}: ok")
    return 1 if found else 0


def cmd_check(args: argparse.Namespace) -> int:
    """One line per problem, exit 1 if any profile (or the connected radio) has one."""
    from firmware_config.checker import check
    from firmware_config.kit import Kit
    from firmware_config.profile import Profile

    kit = _kit(args)
    if args.host or args.port:
        if args.profiles:
            raise CommandError("give either profiles or --host/--port (a connected radio), not both")
        return _check_connected_radio(args, kit)
    names = list(args.profiles) or ([v.id for v in kit.venues] if isinstance(kit, Kit) else [])
    if not names:
        raise CommandError("name the profiles to check, or give --kit DIR (all its venues) or --host/--port")
    problems = 0
    for name in names:
        profile = _load(name, kit)
        assert isinstance(profile, Profile)
        found = check(profile)
        for problem in found:
            print(f"{profile.path.name}: {problem}")
        if not found and not args.quiet:
            print(f"{profile.path.name}: ok")
        problems += len(found)
    return 1 if problems else 0


def _profile_and_psk(args: argparse.Namespace) -> tuple[object, bytes]:
    """The profile (from the kit, or a name/file) and the channel key (the kit's, or --psk-file)."""
    from firmware_config.kit import Kit, KitError
    from firmware_config.profile import Profile, ProfileError, profile_psk

    kit = _kit(args)
    profile = _load(args.profile, kit)
    assert isinstance(profile, Profile)
    try:
        if isinstance(kit, Kit) and not args.psk_file:
            return profile, kit.psk()
        psk = profile_psk(profile, Path(args.psk_file) if args.psk_file else None, create=False)
    except (ProfileError, KitError, OSError) as exc:
        raise CommandError(str(exc)) from None
    return profile, psk


def _refuse_bad_profile(profile: object) -> None:
    from firmware_config.checker import check
    from firmware_config.profile import Profile

    assert isinstance(profile, Profile)
    found = check(profile)
    if found:
        for problem in found:
            print(f"{profile.path.name}: {problem}", file=sys.stderr)
        raise CommandError(f"{profile.path.name} fails `mesh-art radio check`; not applied")


def cmd_render(args: argparse.Namespace) -> int:
    """Print (or write) the plain ``meshtastic --configure`` file for a profile."""
    from firmware_config.profile import Profile, render_yaml

    profile, psk = _profile_and_psk(args)
    assert isinstance(profile, Profile)
    text = render_yaml(profile, psk)
    if args.out:
        Path(args.out).write_text(text)
        print(f"{profile.name}: configure file written to {args.out} (it contains the channel key)")
    else:
        sys.stdout.write(text)
    return 0


def _address(args: argparse.Namespace) -> object:
    from firmware_config.device import RadioAddress

    try:
        return RadioAddress.parse(args.host, args.port)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def cmd_apply(args: argparse.Namespace) -> int:
    """Apply a profile through the meshtastic library, read it back, print the differences."""
    from firmware_config.device import RadioAddress, apply_document, connect, differences
    from firmware_config.profile import Profile, render

    profile, psk = _profile_and_psk(args)
    assert isinstance(profile, Profile)
    _refuse_bad_profile(profile)
    address = _address(args)
    assert isinstance(address, RadioAddress)
    document = render(profile, psk)
    try:
        with connect(address, timeout=args.timeout) as interface:
            apply_document(interface, document, pause_s=args.pause)
        print(f"{profile.name}: applied to {address}; reading back")
        with connect(address, timeout=args.timeout) as interface:
            found = differences(interface, document, psk)
    except (OSError, TimeoutError) as exc:
        raise CommandError(f"cannot talk to the radio at {address}: {exc}") from None
    except Exception as exc:  # the library raises its own MeshInterfaceError and bare Exceptions
        raise CommandError(f"radio at {address}: {exc}") from None
    for line in found:
        print(f"differs: {line}")
    if found:
        print(f"{profile.name}: {len(found)} setting(s) did not take; check the firmware version")
        return 1
    print(f"{profile.name}: radio matches the profile")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Save the radio's current configuration as configure YAML."""
    from firmware_config.device import RadioAddress, connect, export_yaml

    address = _address(args)
    assert isinstance(address, RadioAddress)
    try:
        with connect(address, timeout=args.timeout) as interface:
            text = export_yaml(interface)
    except Exception as exc:  # see cmd_apply
        raise CommandError(f"cannot export from {address}: {exc}") from None
    if args.out:
        Path(args.out).write_text(text)
        print(f"configuration of {address} written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_qr(args: argparse.Namespace) -> int:
    """Write the exhibition channel's QR code."""
    from firmware_config.profile import Profile, channel_url
    from firmware_config.qr import write_qr

    profile, psk = _profile_and_psk(args)
    assert isinstance(profile, Profile)
    url = channel_url(profile, psk)
    try:
        write_qr(url, Path(args.out))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    print(f"channel QR code written to {args.out}")
    return 0


def _connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="radio over TCP: HOST[:PORT] (port 4403 by default)")
    parser.add_argument("--port", help="radio over USB serial, e.g. /dev/ttyUSB0")
    parser.add_argument("--timeout", type=int, default=30, help="seconds to wait for the radio (default 30)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``radio check|render|apply|export|qr``."""
    radio = subparsers.add_parser("radio", help="venue radio profiles: check, apply, export, QR code")
    sub = radio.add_subparsers(dest="radio_command", metavar="ACTION", required=True)
    kit_help = "the exhibition kit (mesh-art kit new): its venue profiles and channel key"
    psk_help = "an existing file holding the channel key (instead of the kit's)"

    check = sub.add_parser("check", help="validate profiles or a connected radio; one line per problem, exit 1 if any")
    check.add_argument("profiles", nargs="*", metavar="PROFILE", help="venue name (nemo, oba, ...) or YAML file")
    check.add_argument("--kit", metavar="DIR", help=kit_help + "; with --host, the radio must match it")
    check.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    _connection_args(check)
    check.set_defaults(func=cmd_check)

    render = sub.add_parser("render", help="print the plain `meshtastic --configure` file of a profile")
    render.add_argument("profile", metavar="PROFILE")
    render.add_argument("--kit", metavar="DIR", help=kit_help)
    render.add_argument("--psk-file", help=psk_help)
    render.add_argument("--out", help="write to this file instead of standard output")
    render.set_defaults(func=cmd_render)

    apply = sub.add_parser("apply", help="apply a profile to a radio, read it back, show differences")
    apply.add_argument("profile", metavar="PROFILE")
    apply.add_argument("--kit", metavar="DIR", help=kit_help)
    apply.add_argument("--psk-file", help=psk_help)
    apply.add_argument("--pause", type=float, default=0.5, help="seconds between settings (as the CLI)")
    _connection_args(apply)
    apply.set_defaults(func=cmd_apply)

    export = sub.add_parser("export", help="save a radio's configuration as configure YAML")
    export.add_argument("--out", help="file to write (default: standard output)")
    _connection_args(export)
    export.set_defaults(func=cmd_export)

    qr = sub.add_parser("qr", help="QR code of the exhibition channel for visitors' apps")
    qr.add_argument("profile", metavar="PROFILE")
    qr.add_argument("--kit", metavar="DIR", help=kit_help)
    qr.add_argument("--psk-file", help=psk_help)
    qr.add_argument("--out", required=True, help="FILE.png or FILE.svg")
    qr.set_defaults(func=cmd_qr)
