"""``mesh-art studio``: the artists' and curator's local web app."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from node.artwork.keystore import config_home
from node.cli import CommandError
from node.lora import preset
from node.studio.serve import BindRefused, check_bind_host, run_studio
from node.studio.settings import DEFAULT_PRESET, DEFAULT_SCENARIO, StudioSettings


def cmd_studio(args: argparse.Namespace) -> int:
    """Run the studio until Ctrl-C."""
    try:
        check_bind_host(args.host, args.allow_remote)
        chosen = preset(args.preset).name
    except (BindRefused, ValueError) as exc:
        raise CommandError(str(exc)) from None
    home = Path(args.home) if args.home else config_home()
    settings = StudioSettings(home=home, preset=chosen, scenario=args.scenario, allow_remote=args.allow_remote)
    try:
        asyncio.run(run_studio(settings, args.host, args.port, open_browser=not args.no_browser))
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``studio``."""
    p = subparsers.add_parser("studio", help="the local web app for artists and curators")
    p.add_argument("--home", help="the studio's folder (default: ~/.config/mesh-art)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host and any Host header (other machines could reach it)")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.add_argument("--preset", default=DEFAULT_PRESET, help=f"the exhibition's preset (default {DEFAULT_PRESET})")
    p.add_argument("--scenario", default=DEFAULT_SCENARIO,
                   help=f"the exhibition's simulator scenario for reach estimates (default {DEFAULT_SCENARIO})")
    p.set_defaults(func=cmd_studio)
