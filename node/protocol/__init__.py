"""The sans-IO gossip core: frame codec, airtime ledger, Trickle timers and the engine.

Nothing here performs I/O or reads a clock; drivers (the daemon, the simulator, the tests)
pass ``now`` and bytes in and take frames, a timer deadline and events out.
"""

from node.protocol.config import EngineConfig, EngineStatus, LinkConfig, LinkStatus
from node.protocol.engine import GossipEngine
from node.protocol.events import RxInfo
from node.protocol.frames import MAX_FRAME, FrameError

__all__ = [
    "MAX_FRAME",
    "EngineConfig",
    "EngineStatus",
    "FrameError",
    "GossipEngine",
    "LinkConfig",
    "LinkStatus",
    "RxInfo",
]
