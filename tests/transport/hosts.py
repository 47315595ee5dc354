"""A recording LinkHost for transport tests: queued frames to send, received frames kept."""

from __future__ import annotations

import asyncio
from collections import deque

from node.protocol.events import RxInfo
from node.transport.base import RadioMetrics


class RecordingHost:
    """Stands in for the driver: ``outbox`` frames are offered through ``poll``."""

    def __init__(self) -> None:
        self.outbox: dict[str, deque[bytes]] = {}
        self.received: list[tuple[str, bytes, RxInfo]] = []
        self.refusals: list[tuple[str, bytes]] = []
        self.arrived = asyncio.Event()
        self.presets: list[tuple[str, str]] = []
        self.metrics: list[tuple[str, RadioMetrics]] = []

    def queue(self, link: str, *frames: bytes) -> None:
        self.outbox.setdefault(link, deque()).extend(frames)

    def deliver(self, link: str, data: bytes, rx_info: RxInfo) -> None:
        self.received.append((link, data, rx_info))
        self.arrived.set()

    def poll(self, link: str) -> bytes | None:
        queue = self.outbox.get(link)
        return queue.popleft() if queue else None

    def radio_preset(self, link: str, preset: str) -> None:
        self.presets.append((link, preset))

    def radio_metrics(self, link: str, metrics: RadioMetrics) -> None:
        self.metrics.append((link, metrics))

    def refused(self, link: str, data: bytes) -> None:
        self.refusals.append((link, data))
        self.arrived.set()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async def enough() -> None:
            while len(self.received) + len(self.refusals) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)
