"""Talking to a radio through the meshtastic library: apply a rendered profile, read it back, export.

The library is synchronous and threaded; these functions block and are meant for the CLI.
Works the same against a real radio (USB serial or TCP) and a virtual one (``mesh-art sim radios``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

DEFAULT_TCP_PORT = 4403
POSITION_TOLERANCE_DEG = 1e-6
HEARTBEAT_SETTLE_S = 0.2


@dataclass(frozen=True)
class RadioAddress:
    """Where the radio is: a TCP host and port, or a serial device."""

    host: str | None = None
    port: int = DEFAULT_TCP_PORT
    serial: str | None = None

    @classmethod
    def parse(cls, host: str | None, serial: str | None) -> RadioAddress:
        """From ``--host HOST[:PORT]`` or ``--port /dev/ttyUSB0``."""
        if bool(host) == bool(serial):
            raise ValueError("give exactly one of --host HOST[:PORT] or --port DEVICE")
        if serial:
            return cls(serial=serial)
        assert host is not None
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        if not port:
            return cls(host=host)
        if not port.isdigit():
            raise ValueError(f"bad port in {host!r}")
        return cls(host=name, port=int(port))

    def __str__(self) -> str:
        return self.serial or f"{self.host}:{self.port}"


@contextlib.contextmanager
def connect(address: RadioAddress, timeout: int = 30) -> Iterator[Any]:
    """An open meshtastic interface to the radio, closed on exit."""
    if address.serial:
        from meshtastic.serial_interface import SerialInterface

        interface = SerialInterface(devPath=address.serial, timeout=timeout)
    else:
        from meshtastic.tcp_interface import TCPInterface

        interface = TCPInterface(hostname=address.host, portNumber=address.port, timeout=timeout)
    # The library signals "connected" and only then sends its first heartbeat from the reader
    # thread; closing in between prints a BrokenPipe traceback. Give that heartbeat a moment.
    time.sleep(HEARTBEAT_SETTLE_S)
    try:
        yield interface
    finally:
        interface.close()


def apply_document(interface: Any, document: dict[str, Any], pause_s: float = 0.5) -> None:
    """Write a rendered profile to the radio, in the order ``meshtastic --configure`` uses."""
    node = interface.localNode
    node.beginSettingsTransaction()
    if document.get("owner") or document.get("owner_short"):
        node.setOwner(long_name=document.get("owner"), short_name=document.get("owner_short"))
        time.sleep(pause_s)
    if document.get("channel_url"):
        node.setURL(document["channel_url"])
        time.sleep(pause_s)
    location = document.get("location") or {}
    fixed = (document.get("config") or {}).get("position", {}).get("fixed_position")
    if location and fixed:
        node.setFixedPosition(float(location["lat"]), float(location["lon"]), int(location.get("alt", 0)))
        time.sleep(pause_s)
    for group, target in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in (document.get(group) or {}).items():
            json_format.ParseDict(values, getattr(target, section))
            node.writeConfig(section)
            time.sleep(pause_s)
    node.commitSettingsTransaction()
    time.sleep(pause_s)


def _wanted(target: Any, section: str, values: dict[str, Any]) -> Any:
    message = type(getattr(target, section))()
    json_format.ParseDict(values, message)
    return message


def differences(interface: Any, document: dict[str, Any], psk: bytes | None) -> list[str]:
    """Every value of the profile the radio does not hold, one line each (the key is never shown)."""
    node = interface.localNode
    found: list[str] = []
    user = interface.getMyUser() or {}
    for key, field in (("owner", "longName"), ("owner_short", "shortName")):
        if document.get(key) and user.get(field) != document[key]:
            found.append(f"{key}: profile {document[key]!r}, radio {user.get(field)!r}")
    for group, target in (("config", node.localConfig), ("module_config", node.moduleConfig)):
        for section, values in (document.get(group) or {}).items():
            wanted = _wanted(target, section, values)
            actual = getattr(target, section)
            for name in values:
                want, have = getattr(wanted, name), getattr(actual, name)
                if want != have:
                    found.append(f"{group}.{section}.{name}: profile {want!r}, radio {have!r}")
    if psk is not None and document.get("channel_url"):
        primary = node.channels[0] if node.channels else None
        if primary is None or primary.settings.psk != psk:
            found.append("channel 0: the radio's key is not the exhibition key")
    location = document.get("location")
    if location:
        position = (interface.getMyNodeInfo() or {}).get("position", {})
        for key, field in (("lat", "latitude"), ("lon", "longitude")):
            have = position.get(field)
            if have is None or not math.isclose(float(have), float(location[key]), abs_tol=POSITION_TOLERANCE_DEG):
                found.append(f"location.{key}: profile {location[key]}, radio {have}")
    return found


def export_yaml(interface: Any) -> str:
    """The radio's configuration as ``meshtastic --export-config`` writes it."""
    from meshtastic.__main__ import export_config

    return str(export_config(interface))

