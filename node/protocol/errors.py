"""The engine's local-misuse errors (raised), apart from remote garbage (counted, never raised).

As in h11, the two never mix: a frame a neighbour sent can only become a
:class:`~node.protocol.events.FrameDropped` event and a ``status().drops`` counter, while a
driver that calls the engine wrongly gets one of these exceptions.
"""

from __future__ import annotations


class EngineError(Exception):
    """A driver or local user misused the engine."""


class UnknownLinkError(EngineError, KeyError):
    """A link name the engine was not configured with."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown link"


class ShortIdCollisionError(EngineError, ValueError):
    """A local bundle whose short id is already held by another stored work."""
