"""Radio safety: would this radio's configuration let the art gossip reach the daemon?

The rules read the firmware's own protobufs (``LocalConfig`` and the primary channel's
``ChannelSettings``), so the same functions judge a venue profile before it is applied
(``mesh-art radio check``) and a connected radio as it is (``radio check --host``, and the
daemon on every (re)connect). Every problem is one sentence that says what to set.

Firmware 2.7 rules behind them (meshtastic/firmware, 2.7 branch):

* ``Router::handleReceived`` skips non-core ports when ``rebroadcast_mode`` is
  ``CORE_PORTNUMS_ONLY``: PRIVATE_APP (256), the art gossip, since 2.7.0, and the whole
  private range 256-511 since 2.7.5. Nothing reaches the client, nothing is logged.
* ``NodeDB::installRoleDefaults`` sets ``CORE_PORTNUMS_ONLY`` for ROUTER and REPEATER.
  ``AdminModule::handleSetConfig`` calls it *after* copying the new device config when the role
  changes, so a rebroadcast mode sent in the same write as the role is overwritten.
* ``KNOWN_ONLY`` drops packets from nodes missing from the node DB (checked before the sender
  is learnt), and ignored nodes (``lora.ignore_incoming``, NodeDB ``is_ignored``) are dropped
  on receive.
* A channel whose ``module_settings.position_precision`` is 0 carries no position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from meshtastic.protobuf import channel_pb2, config_pb2, localonly_pb2

DeviceConfig = config_pb2.Config.DeviceConfig
LoRaConfig = config_pb2.Config.LoRaConfig

ROLES_THAT_INSTALL_CORE_ONLY = ("ROUTER", "REPEATER")
REBROADCAST_DEAF_TO_PRIVATE = "CORE_PORTNUMS_ONLY"
REBROADCAST_KNOWN_ONLY = "KNOWN_ONLY"
GOOD_REBROADCAST = "LOCAL_ONLY"


@dataclass(frozen=True)
class ChannelExpectation:
    """What the exhibition kit says every radio must hold."""

    region: str
    preset: str
    psk: bytes


@dataclass(frozen=True)
class RadioFinding:
    """One problem; ``deafens`` is True when the radio drops the art traffic because of it."""

    text: str
    deafens: bool


def _role(config: localonly_pb2.LocalConfig) -> str:
    return DeviceConfig.Role.Name(config.device.role)


def _rebroadcast(config: localonly_pb2.LocalConfig) -> str:
    return DeviceConfig.RebroadcastMode.Name(config.device.rebroadcast_mode)


def check_role(config: localonly_pb2.LocalConfig, *, profile: bool) -> RadioFinding | None:
    """ROUTER/REPEATER install CORE_PORTNUMS_ONLY; in a profile they are refused outright."""
    role = _role(config)
    if role not in ROLES_THAT_INSTALL_CORE_ONLY:
        return None
    mode = _rebroadcast(config)
    how = (f"use role CLIENT, or set device.role {role} first and then, in a second write, "
           f"device.rebroadcast_mode {GOOD_REBROADCAST} (`meshtastic --set device.rebroadcast_mode "
           f"{GOOD_REBROADCAST}`): the firmware installs {REBROADCAST_DEAF_TO_PRIVATE} whenever the role "
           "changes to it (NodeDB::installRoleDefaults)")
    if profile:
        return RadioFinding(f"device.role {role}: {how}", deafens=True)
    if mode in (REBROADCAST_DEAF_TO_PRIVATE, REBROADCAST_KNOWN_ONLY):
        return None  # the rebroadcast rule below reports it, with the same advice
    return RadioFinding(f"device.role {role} with rebroadcast_mode {mode} still hears port 256, but re-sending "
                        f"the role resets it to {REBROADCAST_DEAF_TO_PRIVATE}; prefer role CLIENT", deafens=False)


def check_rebroadcast(config: localonly_pb2.LocalConfig) -> RadioFinding | None:
    """CORE_PORTNUMS_ONLY and KNOWN_ONLY drop the gossip on receive."""
    mode = _rebroadcast(config)
    if mode == REBROADCAST_DEAF_TO_PRIVATE:
        extra = f" (role {_role(config)} installed it)" if _role(config) in ROLES_THAT_INSTALL_CORE_ONLY else ""
        return RadioFinding(f"device.rebroadcast_mode {mode}{extra} drops PRIVATE_APP (port 256, the art "
                            f"gossip) on receive; set device.rebroadcast_mode {GOOD_REBROADCAST}", deafens=True)
    if mode == REBROADCAST_KNOWN_ONLY:
        return RadioFinding(f"device.rebroadcast_mode {mode} drops frames from venues missing from the radio's "
                            f"node DB; set device.rebroadcast_mode {GOOD_REBROADCAST}", deafens=True)
    return None


def check_ignored(config: localonly_pb2.LocalConfig, ignored_nodes: Sequence[str]) -> RadioFinding | None:
    """Ignored nodes are dropped on receive: the gossip judges neighbours itself."""
    ignored = [f"!{num:08x}" for num in config.lora.ignore_incoming] + list(ignored_nodes)
    if not ignored:
        return None
    shown = ", ".join(sorted(ignored)[:4]) + (" ..." if len(ignored) > 4 else "")
    return RadioFinding(f"the radio ignores {len(ignored)} node(s) ({shown}); their art frames never arrive: "
                        "clear lora.ignore_incoming and un-ignore them (`meshtastic --remove-ignored-node ID`)",
                        deafens=True)


def check_position_precision(primary: channel_pb2.ChannelSettings | None) -> RadioFinding | None:
    """Firmware 2.7 sends no position on a channel with precision 0: the venue is invisible on maps."""
    if primary is not None and primary.module_settings.position_precision > 0:
        return None
    return RadioFinding("the exhibition channel has position_precision 0, so the venue's position is never "
                        "sent; set mesh_art.channel.position_precision (32 = exact)", deafens=False)


def check_expected(config: localonly_pb2.LocalConfig, primary: channel_pb2.ChannelSettings | None,
                   expected: ChannelExpectation) -> list[RadioFinding]:
    """Region, preset and channel key as the kit says; a mismatch cuts the radio off the mesh."""
    found = []
    region = LoRaConfig.RegionCode.Name(config.lora.region)
    if region != expected.region:
        found.append(RadioFinding(f"lora.region is {region}, the kit says {expected.region}", deafens=True))
    preset = LoRaConfig.ModemPreset.Name(config.lora.modem_preset)
    if not config.lora.use_preset:
        found.append(RadioFinding(f"lora.use_preset is off (custom modem settings), the kit says {expected.preset}",
                                  deafens=True))
    elif preset != expected.preset:
        found.append(RadioFinding(f"lora.modem_preset is {preset}, the kit says {expected.preset}", deafens=True))
    if primary is None or primary.psk != expected.psk:
        found.append(RadioFinding("channel 0 does not hold the kit's channel key; apply the venue profile "
                                  "from the kit", deafens=True))
    return found


def radio_findings(config: localonly_pb2.LocalConfig, primary: channel_pb2.ChannelSettings | None,
                   ignored_nodes: Sequence[str] = (), expected: ChannelExpectation | None = None,
                   *, profile: bool = False) -> list[RadioFinding]:
    """Every safety problem of a radio configuration (``profile=True``: a profile, stricter on roles)."""
    found = [finding for finding in (
        check_role(config, profile=profile), check_rebroadcast(config), check_ignored(config, ignored_nodes),
        check_position_precision(primary)) if finding is not None]
    if expected is not None:
        found += check_expected(config, primary, expected)
    return found
