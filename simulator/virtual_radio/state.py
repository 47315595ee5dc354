"""What a virtual radio remembers across connections: owner, channels, config, node DB.

Held as the real Meshtastic protobufs so admin requests read and write them directly, and
saved as JSON (one file per node) when the radios run with a state directory.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from meshtastic.protobuf import channel_pb2, config_pb2, localonly_pb2, mesh_pb2

MAX_CHANNELS = 8
FIRMWARE_VERSION = "2.7.26.virtual"
DEFAULT_HOP_LIMIT = 3

# Config sections the handshake sends, in firmware order (PhoneAPI.cpp), with their
# AdminMessage.ConfigType numbers.
CONFIG_SECTIONS = ("device", "position", "power", "network", "display", "lora", "bluetooth", "security")
MODULE_SECTIONS = ("mqtt", "serial", "external_notification", "store_forward", "range_test", "telemetry",
                   "canned_message", "audio", "remote_hardware", "neighbor_info", "detection_sensor",
                   "ambient_lighting", "paxcounter")


def node_num_for(name: str) -> int:
    """A stable node number for a scenario node name (never 0, broadcast, or the reserved low range)."""
    num = zlib.crc32(name.encode()) & 0xFFFFFFFF
    if num < 0x10 or num == 0xFFFFFFFF:
        num ^= 0x5A5A5A5A
    return num


def node_id(num: int) -> str:
    """The ``!xxxxxxxx`` id Meshtastic shows for a node number."""
    return f"!{num:08x}"


@dataclass
class RadioState:
    """The persistent part of one virtual radio."""

    node_num: int
    owner: mesh_pb2.User
    channels: list[channel_pb2.Channel]
    config: localonly_pb2.LocalConfig
    module_config: localonly_pb2.LocalModuleConfig
    fixed_position: mesh_pb2.Position = field(default_factory=mesh_pb2.Position)
    canned_messages: str = ""
    ringtone: str = ""
    nodes: dict[int, mesh_pb2.NodeInfo] = field(default_factory=dict)

    @property
    def lora(self) -> config_pb2.Config.LoRaConfig:
        """The LoRa section (region, preset, hop limit ...)."""
        return self.config.lora

    def own_node_info(self) -> mesh_pb2.NodeInfo:
        """This radio as a node DB entry."""
        info = mesh_pb2.NodeInfo(num=self.node_num, user=self.owner)
        if self.config.position.fixed_position:
            info.position.CopyFrom(self.fixed_position)
        return info

    def channel_index_enabled(self, index: int) -> bool:
        """True if channel ``index`` exists and is not DISABLED."""
        return 0 <= index < MAX_CHANNELS and self.channels[index].role != channel_pb2.Channel.Role.DISABLED

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of everything (protobufs as their JSON mapping)."""
        def dump(message: Any) -> Any:
            return json_format.MessageToDict(message, preserving_proto_field_name=True)
        return {
            "node_num": self.node_num,
            "owner": dump(self.owner),
            "channels": [dump(c) for c in self.channels],
            "config": dump(self.config),
            "module_config": dump(self.module_config),
            "fixed_position": dump(self.fixed_position),
            "canned_messages": self.canned_messages,
            "ringtone": self.ringtone,
            "nodes": [dump(n) for n in self.nodes.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RadioState:
        """Rebuild a state saved by :meth:`to_json`."""
        def load(message: Any, value: Any) -> Any:
            return json_format.ParseDict(value or {}, message)
        nodes = [load(mesh_pb2.NodeInfo(), n) for n in data.get("nodes", [])]
        return cls(
            node_num=int(data["node_num"]),
            owner=load(mesh_pb2.User(), data["owner"]),
            channels=[load(channel_pb2.Channel(), c) for c in data["channels"]],
            config=load(localonly_pb2.LocalConfig(), data["config"]),
            module_config=load(localonly_pb2.LocalModuleConfig(), data["module_config"]),
            fixed_position=load(mesh_pb2.Position(), data.get("fixed_position")),
            canned_messages=data.get("canned_messages", ""),
            ringtone=data.get("ringtone", ""),
            nodes={n.num: n for n in nodes},
        )

    def save(self, path: Path) -> None:
        """Write the state atomically to ``path``."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True))
        tmp.replace(path)


def default_state(name: str, preset: str = "MEDIUM_FAST", latitude: float | None = None,
                  longitude: float | None = None, altitude_m: int = 0) -> RadioState:
    """A radio fresh out of the box, already set to EU_868 (as an operator's first step would)."""
    num = node_num_for(name)
    short = "".join(ch for ch in name.upper() if ch.isalnum())[:4] or "NODE"
    owner = mesh_pb2.User(id=node_id(num), long_name=name, short_name=short,
                           hw_model=mesh_pb2.HardwareModel.PORTDUINO)
    channels = [channel_pb2.Channel(index=i, role=channel_pb2.Channel.Role.DISABLED) for i in range(MAX_CHANNELS)]
    channels[0].role = channel_pb2.Channel.Role.PRIMARY
    channels[0].settings.psk = b"\x01"  # the default public key, as on a new radio
    config = localonly_pb2.LocalConfig()
    config.device.role = config_pb2.Config.DeviceConfig.Role.CLIENT
    lora = config.lora
    lora.region = config_pb2.Config.LoRaConfig.RegionCode.EU_868
    lora.modem_preset = config_pb2.Config.LoRaConfig.ModemPreset.Value(preset)
    lora.use_preset = True
    lora.hop_limit = DEFAULT_HOP_LIMIT
    lora.tx_enabled = True
    lora.tx_power = 27
    lora.sx126x_rx_boosted_gain = True
    config.position.position_broadcast_secs = 900
    config.display.screen_on_secs = 600
    config.power.ls_secs = 300
    config.bluetooth.fixed_pin = 123456
    config.security.serial_enabled = True
    modules = localonly_pb2.LocalModuleConfig()
    modules.mqtt.address = "mqtt.meshtastic.org"
    modules.mqtt.username = "meshdev"
    modules.mqtt.password = "large4cats"
    modules.mqtt.encryption_enabled = True
    modules.mqtt.root = "msh/EU_868"
    modules.telemetry.device_update_interval = 1800
    state = RadioState(node_num=num, owner=owner, channels=channels, config=config, module_config=modules)
    if latitude is not None and longitude is not None:
        state.config.position.fixed_position = True
        state.fixed_position = mesh_pb2.Position(latitude_i=round(latitude * 1e7),
                                                 longitude_i=round(longitude * 1e7), altitude=altitude_m)
    return state


def load_or_create(name: str, state_dir: Path | None, **defaults: Any) -> RadioState:
    """The saved state of node ``name`` from ``state_dir``, or a default one."""
    if state_dir is not None:
        path = state_dir / f"{name}.json"
        if path.exists():
            return RadioState.from_json(json.loads(path.read_text()))
    return default_state(name, **defaults)
