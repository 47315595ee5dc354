"""The node daemon: the asyncio driver of the gossip engine, its transports and HTTP side."""

from node.daemon.driver import EngineDriver
from node.daemon.runner import NodeDaemon

__all__ = ["EngineDriver", "NodeDaemon"]
