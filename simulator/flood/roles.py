"""Meshtastic device roles as the flooding router sees them (``Config.DeviceConfig.Role``)."""

from __future__ import annotations

from enum import Enum


class Role(Enum):
    """The roles the baseline models; their effect is read from ``FloodingRouter.cpp``."""

    CLIENT = "CLIENT"
    CLIENT_MUTE = "CLIENT_MUTE"
    ROUTER = "ROUTER"
    ROUTER_LATE = "ROUTER_LATE"

    @property
    def rebroadcasts(self) -> bool:
        """``FloodingRouter::isRebroadcaster``: every role but CLIENT_MUTE."""
        return self is not Role.CLIENT_MUTE

    @property
    def cancels_on_duplicate(self) -> bool:
        """``FloodingRouter::roleAllowsCancelingDupe``: ROUTER and ROUTER_LATE always relay."""
        return self not in (Role.ROUTER, Role.ROUTER_LATE)


def parse_role(name: str) -> Role:
    """A role from its firmware name (case-insensitive); ValueError with the choices otherwise."""
    try:
        return Role(name.upper())
    except ValueError:
        raise ValueError(f"unknown role {name!r}; choose one of {', '.join(r.value for r in Role)}") from None
