"""The checks a firmware 2.7 radio makes on a received packet before its modules (and its relay) see it.

In firmware order:
1. ``Router::perhapsHandleReceived`` drops packets from a node in ``lora.ignore_incoming``, from a
   node marked ignored in the node DB, or from the broadcast address, before duplicate detection,
   so they are neither delivered nor relayed.
2. ``perhapsDecode`` refuses to decode a packet from a node without a user entry when the
   rebroadcast mode is KNOWN_ONLY. Learning the sender happens only after decoding, so an
   unknown node stays unknown (its NodeInfo cannot be decoded either).
3. ``Router::handleReceived`` sets ``skipHandle`` for a decoded packet on a non-core port when
   the rebroadcast mode is CORE_PORTNUMS_ONLY: not delivered to the client, not relayed, and a
   queued relay of it is cancelled. Since 2.7.4 every port outside the core whitelist is skipped
   (all of 64-511, PRIVATE_APP 256 included); 2.7.0-2.7.3 skipped a blacklist (ATAK_FORWARDER,
   ATAK_PLUGIN, PAXCOUNTER, IP_TUNNEL, AUDIO, PRIVATE_APP, DETECTION_SENSOR, RANGE_TEST,
   REMOTE_HARDWARE), so ports 258-511 still passed there. Role ROUTER installs this mode.
"""

from __future__ import annotations

from meshtastic.protobuf import config_pb2

from simulator.virtual_radio.flooding import CORE_PORTNUMS
from simulator.virtual_radio.state import RadioState

RebroadcastMode = config_pb2.Config.DeviceConfig.RebroadcastMode
BROADCAST = 0xFFFFFFFF


def ignores_sender(state: RadioState, sender: int) -> bool:
    """True if the radio drops everything from ``sender`` on arrival."""
    if sender == BROADCAST or sender in state.lora.ignore_incoming:
        return True
    info = state.nodes.get(sender)
    return info is not None and info.is_ignored


def refuses_to_decode(state: RadioState, sender: int) -> bool:
    """KNOWN_ONLY: a packet from a node without a user entry is not decoded."""
    if state.config.device.rebroadcast_mode != RebroadcastMode.KNOWN_ONLY:
        return False
    info = state.nodes.get(sender)
    return info is None or not info.HasField("user")


def skips_port(state: RadioState, portnum: int) -> bool:
    """CORE_PORTNUMS_ONLY: a decoded packet on a non-core port is neither handled nor relayed."""
    return state.config.device.rebroadcast_mode == RebroadcastMode.CORE_PORTNUMS_ONLY and portnum not in CORE_PORTNUMS
