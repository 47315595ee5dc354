"""``mesh-art node run`` and ``mesh-art node status``."""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from node.cli import CommandError
from node.cli.terminal import printable, printable_lines
from node.config import LOG_LEVELS, ConfigError, NodeConfig, default_data_dir, load_config


def config_from_args(args: argparse.Namespace) -> NodeConfig:
    """The validated config with command-line overrides applied."""
    overrides = {
        "node.data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None,
        "http.port": args.http_port,
        "http.host": args.http_host,
        "log.level": args.log_level,
        "radio.device": getattr(args, "radio", None),
        "mqtt.host": getattr(args, "mqtt_host", None),
        "mqtt.port": getattr(args, "mqtt_port", None),
        "mqtt.exhibition": getattr(args, "exhibition", None),
    }
    try:
        return load_config(Path(args.config) if args.config else None, overrides)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def cmd_run(args: argparse.Namespace) -> int:
    """Run the node until SIGTERM/SIGINT."""
    from node.daemon.logs import setup_logging
    from node.daemon.runner import NodeDaemon

    config = config_from_args(args)
    setup_logging(config.log_level)
    try:
        asyncio.run(NodeDaemon(config).run())
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    return 0


def fetch_status(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """GET ``<url>/api/status`` as a dict."""
    target = url.rstrip("/") + "/api/status"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            data: dict[str, Any] = json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"cannot reach the node at {target}: {reason}") from None
    except ValueError:
        raise CommandError(f"{target} did not return JSON; is this a mesh-art node?") from None
    return data


def status_url(args: argparse.Namespace) -> str:
    """Where the running daemon listens: --http, or daemon.json in the data directory."""
    from node.daemon.http import DAEMON_FILE, read_daemon_file

    if args.http:
        return str(args.http)
    if args.data_dir:
        data_dir = Path(args.data_dir)
    elif args.config:
        data_dir = config_from_args(argparse.Namespace(
            config=args.config, data_dir=None, http_port=None, http_host=None, log_level=None)).data_dir
    else:
        data_dir = default_data_dir()
    info = read_daemon_file(data_dir)
    if info is None:
        raise CommandError(f"no running node found ({data_dir / DAEMON_FILE} is missing); "
                           "is `mesh-art node run` running? Use --http URL or --data-dir DIR")
    return f"http://127.0.0.1:{info['http_port']}"


def format_status(status: dict[str, Any]) -> str:
    """A readable multi-line summary of /api/status, every line :func:`printable`."""
    node = status.get("node", {})
    works = status.get("works", {})
    lines = [
        f"{node.get('name', '?')} ({node.get('venue') or 'no venue'})  node {node.get('node_id', '?')}"
        f"  version {node.get('version', '?')}  up {_duration(status.get('uptime_s', 0))}",
        f"works: {works.get('complete', 0)} complete, {works.get('partial', 0)} partial"
        f" ({works.get('bytes_used', 0) / 1024:.0f} KiB)   peers heard: {status.get('peers_heard', 0)}",
    ]
    links = status.get("links", {})
    if not links:
        lines.append("links: none (standalone gallery)")
    for name, link in links.items():
        transport = link.get("transport", {})
        state = "connected" if transport.get("connected") else "DISCONNECTED"
        text = (f"link {name} ({link.get('kind', '?')}): {state}, reconnects {transport.get('reconnects', 0)},"
                f" frames in {link.get('frames_in', transport.get('frames_in', 0))}"
                f" out {link.get('frames_out', transport.get('frames_out', 0))}")
        if link.get("kind") == "lora":
            text += (f", airtime {link.get('airtime_last_hour_s', 0):.1f}s"
                     f" of {link.get('airtime_limit_s', 0):.0f}s in the last hour")
        if transport.get("last_error") and not transport.get("connected"):
            text += f"; last error: {transport['last_error']}"
        lines.append(text)
    drops = dict(status.get("drops", {}))
    for reasons in status.get("transport_drops", {}).values():
        for reason, count in reasons.items():
            drops[reason] = drops.get(reason, 0) + count
    if drops:
        lines.append("drops: " + ", ".join(f"{reason} {count}" for reason, count in sorted(drops.items())))
    for peer in status.get("peers", [])[:10]:
        lines.append(f"  peer {str(peer.get('node_key', ''))[:16]} {printable(peer.get('venue', '')):20}"
                     f" via {peer.get('link')} works {peer.get('works_held')} snr {peer.get('snr')}")
    return "\n".join(printable(line) for line in lines)


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 86400}d{s % 86400 // 3600}h" if s >= 86400 else f"{s // 3600}h{s % 3600 // 60:02d}m"


def cmd_status(args: argparse.Namespace) -> int:
    """Print the running node's status."""
    status = fetch_status(status_url(args))
    # The status is whatever answers at the URL, and peers' venue names are anyone's text.
    print(printable_lines(json.dumps(status, indent=2) if args.json else format_status(status)))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``node run`` and ``node status``."""
    node = subparsers.add_parser("node", help="run a node or read its status")
    sub = node.add_subparsers(dest="node_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run the node daemon (gallery, gossip, transports)")
    run.add_argument("--config", help="node.toml (default: embedded defaults)")
    run.add_argument("--data-dir", help="store, node key and daemon.json (overrides [node] data_dir)")
    run.add_argument("--http-host", help="address the gallery listens on (default 0.0.0.0)")
    run.add_argument("--http-port", type=int, help="gallery port (default 8080; 0 picks a free port)")
    run.add_argument("--log-level", choices=LOG_LEVELS)
    run.add_argument("--radio", metavar="DEVICE", help="Meshtastic radio: serial[:PATH], tcp:HOST[:PORT], ble:ADDR")
    run.add_argument("--mqtt-host", help="MQTT broker host (needs --exhibition or [mqtt] exhibition)")
    run.add_argument("--mqtt-port", type=int)
    run.add_argument("--exhibition", help="MQTT exhibition name (topic tree)")
    run.set_defaults(func=cmd_run)
    status = sub.add_parser("status", help="show the running node's status")
    status.add_argument("--http", metavar="URL", help="node URL, e.g. http://127.0.0.1:8080")
    status.add_argument("--data-dir", help="data directory of the running node (reads daemon.json)")
    status.add_argument("--config", help="node.toml of the running node")
    status.add_argument("--json", action="store_true", help="print the raw JSON")
    status.set_defaults(func=cmd_status)
