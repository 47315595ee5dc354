"""In-memory transport: every node in one process on a shared bus (tests and the demo).

A frame sent by one member reaches every other member of the same :class:`MemoryBus`,
delivered on a later loop iteration (never re-entrantly inside the sender's poll).
"""

from __future__ import annotations

import asyncio

from node.protocol.events import RxInfo
from node.transport.base import InboxTransport, LinkHost, LinkKind


class MemoryBus:
    """A broadcast medium shared by :class:`MemoryTransport` members."""

    def __init__(self) -> None:
        self._members: list[MemoryTransport] = []

    def join(self, member: MemoryTransport) -> None:
        """Add a member; it hears everything sent from now on."""
        if member not in self._members:
            self._members.append(member)

    def leave(self, member: MemoryTransport) -> None:
        """Remove a member."""
        if member in self._members:
            self._members.remove(member)

    @property
    def members(self) -> list[MemoryTransport]:
        """Current members, in joining order."""
        return list(self._members)

    def broadcast(self, sender: MemoryTransport, data: bytes) -> None:
        """Queue ``data`` for every member except ``sender``."""
        for member in self._members:
            if member is not sender:
                member.enqueue(data, sender.node_id)


class MemoryTransport(InboxTransport):
    """One node's link on a :class:`MemoryBus`."""

    def __init__(self, link: str, bus: MemoryBus, node_id: str, kind: LinkKind = "ip") -> None:
        super().__init__(link)
        self.kind = kind
        self.bus = bus
        self.node_id = node_id

    def enqueue(self, data: bytes, sender: str) -> None:
        """Called by the bus: a frame from ``sender`` arrived."""
        self.arrive(data, RxInfo(sender=sender))

    def attach(self) -> None:
        """Join the bus."""
        self.bus.join(self)

    def detach(self) -> None:
        """Leave the bus."""
        self.bus.leave(self)

    async def _send_loop(self, host: LinkHost) -> None:
        while True:
            frame = host.poll(self.link)
            if frame is None:
                await self.wait_for_wake()
                continue
            self.count_out(frame)
            self.bus.broadcast(self, frame)
            await asyncio.sleep(0)  # let receivers run between frames
