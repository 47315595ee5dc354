"""The small interface every transport (radio, MQTT, in-memory) offers the daemon.

A transport owns one link of the engine. It runs as one long task (:meth:`Transport.run`),
keeps its connection alive on its own (reconnecting with backoff, forever) and talks to the
driver only through a :class:`LinkHost`, always on the event loop thread:

* a received frame goes to ``host.deliver(link, data, rx_info)``;
* whenever the medium can take a frame, the transport asks ``host.poll(link)`` (the engine's
  ``poll_frame``) and sends what it gets; ``None`` means "nothing now": the transport waits for
  :meth:`Transport.wake`, which the driver calls after every engine input and timer;
* a frame the medium refused for duty-cycle reasons goes back with ``host.refused(link, data)``;
* a radio reports what it measures and runs: ``host.radio_metrics(link, RadioMetrics(...))``
  and ``host.radio_preset(link, preset)`` when its modem preset is not the one the engine counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from node.lora import MAX_APP_PAYLOAD
from node.protocol.events import RxInfo

LinkKind = Literal["lora", "ip"]

MAX_FRAME_BYTES = MAX_APP_PAYLOAD
"""Largest frame any transport carries: a Meshtastic PRIVATE_APP payload (meshtastic.md §1)."""


@dataclass(frozen=True)
class RadioMetrics:
    """A radio's own device metrics, in percent: the channel busy-ness it hears, its own TX share."""

    channel_utilization: float | None
    air_util_tx: float | None
    gps_time: float | None = None  # Unix seconds of the radio's own latest GPS fix (its receiver, not the mesh)


class LinkHost(Protocol):
    """What a transport may call on the driver (loop thread only)."""

    def deliver(self, link: str, data: bytes, rx_info: RxInfo) -> None:
        """Hand a received frame to the engine."""
        ...

    def poll(self, link: str) -> bytes | None:
        """The next frame the engine wants sent on ``link`` now, or None."""
        ...

    def refused(self, link: str, data: bytes) -> None:
        """The medium refused ``data`` (duty-cycle limit): back-pressure for the engine."""
        ...

    def radio_preset(self, link: str, preset: str) -> None:
        """The radio on ``link`` runs modem preset ``preset``: count airtime at it."""
        ...

    def radio_metrics(self, link: str, metrics: RadioMetrics) -> None:
        """The radio's latest device metrics."""
        ...


@dataclass
class TransportState:
    """A transport's health, as shown in /api/status and /metrics."""

    connected: bool = False
    reconnects: int = 0
    last_error: str | None = None
    frames_in: int = 0
    frames_out: int = 0
    last_frame_in_at: float | None = None  # wall-clock time of the last frame received
    bytes_in: int = 0
    bytes_out: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view."""
        return {
            "connected": self.connected,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "last_frame_in_at": self.last_frame_in_at,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "drops": dict(self.drops),
            **self.details,
        }


class Backoff:
    """Exponential reconnect delays with jitter, capped; :meth:`reset` after a good connection."""

    def __init__(self, initial: float = 1.0, maximum: float = 60.0, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self._rng = rng or random.Random()
        self._next = initial

    def next_delay(self) -> float:
        """The delay to wait now; doubles the following one up to the cap."""
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay * self._rng.uniform(0.8, 1.2)

    def reset(self) -> None:
        """Start again from the initial delay."""
        self._next = self.initial


class Transport(ABC):
    """One link of the engine over one medium."""

    kind: LinkKind = "ip"

    def __init__(self, link: str) -> None:
        self.link = link
        self.state = TransportState()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """The engine may have something to send: poll again soon."""
        self._wake.set()

    async def wait_for_wake(self, timeout: float | None = None) -> None:
        """Block until :meth:`wake` was called (or ``timeout`` passed), then clear the flag."""
        if timeout is None:
            await self._wake.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    def count_in(self, data: bytes) -> None:
        """Book a frame received and accepted by the transport."""
        self.state.frames_in += 1
        self.state.bytes_in += len(data)
        self.state.last_frame_in_at = time.time()

    def count_out(self, data: bytes) -> None:
        """Book a frame sent."""
        self.state.frames_out += 1
        self.state.bytes_out += len(data)

    def hand_over(self, host: LinkHost, data: bytes, rx_info: RxInfo) -> None:
        """Pass a received frame to the engine, dropping (and counting) oversize garbage."""
        if len(data) > MAX_FRAME_BYTES:
            self.drop("oversize")
            return
        self.count_in(data)
        host.deliver(self.link, data, rx_info)

    def drop(self, reason: str) -> None:
        """Count transport-level garbage (the engine counts its own drops)."""
        self.state.drops[reason] += 1

    @abstractmethod
    async def run(self, host: LinkHost) -> None:
        """Connect, receive and send until cancelled; reconnect on failures, forever."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release the medium at shutdown (bounded in time)."""


class InboxTransport(Transport):
    """A transport for in-process media (the memory bus, the demo's air): frames arrive in a queue.

    The medium calls :meth:`arrive`; subclasses implement :meth:`_send_loop` and the two hooks
    that attach to and detach from their medium.
    """

    def __init__(self, link: str) -> None:
        super().__init__(link)
        self._inbox: asyncio.Queue[tuple[bytes, RxInfo]] = asyncio.Queue()

    def arrive(self, data: bytes, rx_info: RxInfo) -> None:
        """Called by the medium: a frame reached this node."""
        self._inbox.put_nowait((data, rx_info))

    def attach(self) -> None:
        """Join the medium (called when :meth:`run` starts)."""

    def detach(self) -> None:
        """Leave the medium (called when :meth:`run` ends)."""

    async def run(self, host: LinkHost) -> None:
        """Attach, then receive and send until cancelled."""
        self.attach()
        self.state.connected = True
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._receive_loop(host))
                group.create_task(self._send_loop(host))
        finally:
            self.state.connected = False
            self.detach()

    async def _receive_loop(self, host: LinkHost) -> None:
        while True:
            data, rx_info = await self._inbox.get()
            self.hand_over(host, data, rx_info)

    @abstractmethod
    async def _send_loop(self, host: LinkHost) -> None:
        """Poll the engine and put its frames on the medium, until cancelled."""
