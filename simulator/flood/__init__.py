"""Baseline: a work sent as Meshtastic broadcasts under managed flooding, with optional repair.

``router`` is the firmware's broadcast path (roles, transmit queue, reliable sends), ``holdings``
what a node keeps, ``repair`` the NACK-driven re-flood, ``agent`` the node that joins them.
"""

from simulator.flood.agent import DEFAULT_HOP_LIMIT, FloodAgent, FloodConfig
from simulator.flood.holdings import FloodHoldings
from simulator.flood.repair import RepairConfig
from simulator.flood.roles import Role, parse_role

__all__ = ["DEFAULT_HOP_LIMIT", "FloodAgent", "FloodConfig", "FloodHoldings", "RepairConfig", "Role", "parse_role"]
