"""The sans-IO gossip core: frame codec, airtime ledger, Trickle timers and the engine.

Nothing here performs I/O or reads a clock; drivers (the daemon, the simulator, the tests)
pass ``now`` and bytes in and take frames, a timer deadline and events out, holding the engine
through the :class:`GossipAgent` protocol.
"""

from node.protocol.agent import GossipAgent
from node.protocol.config import EngineConfig, EngineStatus, LinkConfig, LinkStatus
from node.protocol.drops import DropReason
from node.protocol.engine import GossipEngine
from node.protocol.errors import EngineError, ShortIdCollisionError, UnknownLinkError
from node.protocol.events import RxInfo
from node.protocol.frames import MAX_FRAME, FrameError

__all__ = [
    "MAX_FRAME",
    "DropReason",
    "EngineConfig",
    "EngineError",
    "EngineStatus",
    "FrameError",
    "GossipAgent",
    "GossipEngine",
    "LinkConfig",
    "LinkStatus",
    "RxInfo",
    "ShortIdCollisionError",
    "UnknownLinkError",
]
