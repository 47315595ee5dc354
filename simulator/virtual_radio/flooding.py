"""Meshtastic's managed flooding rules, as pure functions of role, config and the packet.

Sources (reference/meshtastic.md §2, §5): firmware FloodingRouter / NextHopRouter (who
rebroadcasts and who cancels on hearing a duplicate), RadioInterface ``getTxDelayMsecWeighted``
(SNR-weighted contention window), Router.cpp (the CORE_PORTNUMS_ONLY whitelist).
"""

from __future__ import annotations

import random

from meshtastic.protobuf import config_pb2, portnums_pb2

Role = config_pb2.Config.DeviceConfig.Role
RebroadcastMode = config_pb2.Config.DeviceConfig.RebroadcastMode
PortNum = portnums_pb2.PortNum

CW_MIN = 3
CW_MAX = 8
SNR_MIN = -20.0
SNR_MAX = 10.0
HOP_MAX = 7
HOP_RELIABLE = 3

# Ports a CORE_PORTNUMS_ONLY relay still forwards (firmware Router.cpp); PRIVATE_APP is not one.
CORE_PORTNUMS = frozenset({
    PortNum.TEXT_MESSAGE_APP, PortNum.TEXT_MESSAGE_COMPRESSED_APP, PortNum.POSITION_APP,
    PortNum.NODEINFO_APP, PortNum.ROUTING_APP, PortNum.TELEMETRY_APP, PortNum.ADMIN_APP,
    PortNum.ALERT_APP, PortNum.KEY_VERIFICATION_APP, PortNum.WAYPOINT_APP, PortNum.STORE_FORWARD_APP,
    PortNum.TRACEROUTE_APP, PortNum.STORE_FORWARD_PLUSPLUS_APP,
})
# Roles that keep their rebroadcast even when a neighbour relayed the same packet first.
NON_CANCELLING_ROLES = frozenset({Role.ROUTER, Role.ROUTER_LATE, Role.CLIENT_BASE})


def is_rebroadcaster(role: int) -> bool:
    """CLIENT_MUTE never relays (firmware ``isRebroadcaster``)."""
    return role != Role.CLIENT_MUTE


def may_relay(role: int, mode: int, decodable: bool, portnum: int, sender_known: bool) -> bool:
    """Whether a radio relays a packet it received with hop_limit left, by role and rebroadcast mode."""
    if not is_rebroadcaster(role):
        return False
    if mode in (RebroadcastMode.ALL, RebroadcastMode.ALL_SKIP_DECODING):
        return True
    if mode == RebroadcastMode.LOCAL_ONLY:
        return decodable
    if mode == RebroadcastMode.KNOWN_ONLY:
        return decodable and sender_known
    if mode == RebroadcastMode.CORE_PORTNUMS_ONLY:
        return decodable and portnum in CORE_PORTNUMS
    return False  # NONE


def cancels_on_duplicate(role: int) -> bool:
    """Whether hearing another relay of a packet cancels this radio's queued relay."""
    return role not in NON_CANCELLING_ROLES


def contention_window(snr_db: float) -> int:
    """Arduino ``map(snr, SNR_MIN, SNR_MAX, CW_MIN, CW_MAX)`` with integer truncation."""
    return int(CW_MIN + (snr_db - SNR_MIN) * (CW_MAX - CW_MIN) / (SNR_MAX - SNR_MIN))


def relay_delay(role: int, snr_db: float, slot_s: float, rng: random.Random) -> float:
    """Seconds a relay waits: routers early, everyone else after 2·CWmax slots; weaker SNR sooner."""
    cw = min(max(contention_window(snr_db), CW_MIN), CW_MAX)
    if role == Role.ROUTER:
        return rng.randrange(0, 2 * cw) * slot_s
    return (2 * CW_MAX + rng.randrange(0, 2**cw)) * slot_s


def origin_delay(slot_s: float, rng: random.Random, channel_util_percent: float = 0.0) -> float:
    """Seconds a locally originated packet waits before its first channel check."""
    cw = CW_MIN + int(min(max(channel_util_percent, 0.0), 100.0) * (CW_MAX - CW_MIN) / 100)
    return rng.randrange(0, 2**cw) * slot_s


def sanitize_hop_limit(hop_limit: int) -> int:
    """Firmware resets an out-of-range hop limit to the default before sending."""
    return HOP_RELIABLE if hop_limit > HOP_MAX else hop_limit
