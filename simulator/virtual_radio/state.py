"""What a virtual radio remembers across connections: owner, channels, config, node DB.

Held as the real Meshtastic protobufs so admin requests read and write them directly, and
saved as JSON (one file per node) when the radios run with a state directory.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from meshtastic.protobuf import channel_pb2, config_pb2, localonly_pb2, mesh_pb2, telemetry_pb2

from simulator.virtual_radio import pki

MAX_CHANNELS = 8
FIRMWARE_VERSION = "2.7.26.virtual"
DEFAULT_HOP_LIMIT = 3
DEFAULT_POSITION_PRECISION = 13  # Channels::initDefaultChannel: "default to sending location on the primary channel"
DEFAULT_NODE_INFO_BROADCAST_S = 3 * 60 * 60  # Default.h default_node_info_broadcast_secs
MQTT_ROOT = "msh"
Region = config_pb2.Config.LoRaConfig.RegionCode
DUTY_CYCLED_REGIONS = frozenset({Region.EU_868, Region.EU_433})

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

    def own_node_info(self, metrics: telemetry_pb2.DeviceMetrics | None = None) -> mesh_pb2.NodeInfo:
        """This radio as its client sees it in the handshake (PhoneAPI ``STATE_SEND_OWN_NODEINFO``)."""
        info = mesh_pb2.NodeInfo(num=self.node_num, user=self.owner, is_favorite=True)
        info.user.role = self.config.device.role
        if self.config.position.fixed_position:
            info.position.CopyFrom(self.fixed_position)
        if metrics is not None:
            info.device_metrics.CopyFrom(metrics)
        return info

    def position_precision(self, index: int) -> int:
        """Position bits shared on channel ``index``; 0 without module settings (fails closed, firmware #10509)."""
        if not self.channel_index_enabled(index) or not self.channels[index].settings.HasField("module_settings"):
            return 0
        return self.channels[index].settings.module_settings.position_precision

    def ensure_keys(self, new_private_key: Callable[[], bytes]) -> None:
        """Generate or recompute the PKI pair and show the public key in the owner (``NodeDB::NodeDB``).

        Licensed (ham) operators have no keys; an unset region keeps the radio without them.
        ``new_private_key`` makes a key, called only when no private key is kept.
        """
        security = self.config.security
        if self.owner.is_licensed or self.lora.region == Region.UNSET:
            return
        if len(security.private_key) != pki.KEY_BYTES:
            security.private_key = new_private_key()
        security.public_key = pki.public_key_for(security.private_key)
        self.owner.public_key = security.public_key

    def first_region_set(self, new_private_key: Callable[[], bytes]) -> None:
        """What setting the region for the first time does (``AdminModule::handleSetConfig``, lora case)."""
        self.ensure_keys(new_private_key)
        self.lora.tx_enabled = True
        if self.lora.region in DUTY_CYCLED_REGIONS:
            self.lora.ignore_mqtt = True  # "Ignore MQTT by default if region has a duty cycle limit"
        if self.module_config.mqtt.root == MQTT_ROOT:
            self.module_config.mqtt.root = f"{MQTT_ROOT}/{Region.Name(self.lora.region)}"

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


def default_channels() -> list[channel_pb2.Channel]:
    """The channel file of a new radio: the primary channel on the default key (``Channels::initDefaultChannel``)."""
    channels = [channel_pb2.Channel(index=i, role=channel_pb2.Channel.Role.DISABLED) for i in range(MAX_CHANNELS)]
    channels[0].role = channel_pb2.Channel.Role.PRIMARY
    channels[0].settings.psk = b"\x01"  # the default public key
    channels[0].settings.module_settings.position_precision = DEFAULT_POSITION_PRECISION
    return channels


def factory_state(node_num: int, private_key: bytes = b"") -> RadioState:
    """A radio after a factory reset (``NodeDB::factoryReset``): region unset, default owner, empty node DB.

    ``private_key`` is kept by ``factory_reset_config`` and erased by ``factory_reset_device``
    (``installDefaultConfig(preserveKey)``); the public key comes back when the region is set.
    """
    owner = mesh_pb2.User(id=node_id(node_num), long_name=f"Meshtastic {node_num & 0xFFFF:04x}",
                           short_name=f"{node_num & 0xFFFF:04x}", hw_model=mesh_pb2.HardwareModel.PORTDUINO)
    config = localonly_pb2.LocalConfig()
    config.device.role = config_pb2.Config.DeviceConfig.Role.CLIENT
    config.device.node_info_broadcast_secs = DEFAULT_NODE_INFO_BROADCAST_S
    config.lora.region = Region.UNSET
    config.lora.use_preset = True
    config.lora.hop_limit = DEFAULT_HOP_LIMIT
    config.lora.tx_enabled = True
    config.lora.sx126x_rx_boosted_gain = True
    config.position.position_broadcast_smart_enabled = True
    config.position.broadcast_smart_minimum_distance = 100
    config.position.broadcast_smart_minimum_interval_secs = 300
    config.bluetooth.enabled = True
    config.bluetooth.fixed_pin = 123456
    config.network.ntp_server = "meshtastic.pool.ntp.org"
    config.security.serial_enabled = True
    if private_key:
        config.security.private_key = private_key
    modules = localonly_pb2.LocalModuleConfig()
    modules.mqtt.address = "mqtt.meshtastic.org"
    modules.mqtt.username = "meshdev"
    modules.mqtt.password = "large4cats"
    modules.mqtt.encryption_enabled = True
    modules.mqtt.root = MQTT_ROOT
    return RadioState(node_num=node_num, owner=owner, channels=default_channels(), config=config,
                      module_config=modules)


def default_state(name: str, preset: str = "MEDIUM_FAST", latitude: float | None = None,
                  longitude: float | None = None, altitude_m: int = 0) -> RadioState:
    """A radio fresh out of the box, already set to EU_868 (as an operator's first step would)."""
    num = node_num_for(name)
    short = "".join(ch for ch in name.upper() if ch.isalnum())[:4] or "NODE"
    owner = mesh_pb2.User(id=node_id(num), long_name=name, short_name=short,
                           hw_model=mesh_pb2.HardwareModel.PORTDUINO)
    channels = default_channels()
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
    modules.mqtt.root = MQTT_ROOT
    modules.telemetry.device_update_interval = 1800
    config.device.node_info_broadcast_secs = DEFAULT_NODE_INFO_BROADCAST_S
    state = RadioState(node_num=num, owner=owner, channels=channels, config=config, module_config=modules)
    state.first_region_set(lambda: pki.private_key_for_name(name))
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
