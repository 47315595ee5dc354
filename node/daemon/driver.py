"""The asyncio driver of the sans-IO engine: the loop clock, one timer, events, transports.

Everything here runs on the event loop thread. After every input to the engine (a received
frame, a refusal, a timer, a local ingest) the driver

1. drains ``engine.next_event()`` into the :class:`~node.eventhub.EventHub` (and its own
   peer and arrival tables),
2. re-arms its single ``loop.call_at`` handle at ``engine.get_timer()``,
3. wakes every transport so it asks ``poll_frame`` again.

The engine is only ever given ``loop.time()`` as ``now`` (times ``clock_scale``, which only the
sped-up demo sets: engine seconds then pass faster than loop seconds).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import replace

from node.artwork.bundle import Bundle
from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.daemon.clock import TrustedClock
from node.daemon.peers import HeardPeers
from node.eventhub import EventHub
from node.gallery.context import Arrival
from node.protocol.agent import GossipAgent
from node.protocol.events import Event, FrameDropped, ManifestReceived, PeerStatus, RxInfo, WorkCompleted
from node.transport.base import RadioMetrics, Transport

log = logging.getLogger("node.daemon.driver")

TRUSTED_CLOCK_POLL_S = 600.0
"""How often the driver asks its trusted clock (NTP or GPS) and tells the engine."""

BUSY_TIMER_SPACING_S = 0.05
"""When the engine's timer is still due right after handling it (work waits for a link that
cannot send), the next check is at least this far away, so a dead link never spins the CPU."""


class EngineDriver:
    """Feeds one engine from the loop and its transports; implements ``LinkHost``."""

    def __init__(self, engine: GossipAgent, hub: EventHub, transports: Iterable[Transport] = (),
                 clock_scale: float = 1.0, trusted_clock: TrustedClock | None = None) -> None:
        self.engine = engine
        self.clock_scale = clock_scale
        self.trusted_clock = trusted_clock
        self._clock_handle: asyncio.TimerHandle | None = None
        self.hub = hub
        self.transports: dict[str, Transport] = {t.link: t for t in transports}
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.peers = HeardPeers()
        self.arrivals: dict[bytes, Arrival] = {}  # work id -> how it came, in this run
        self.timer_runs = 0
        self.engine_errors = 0
        self.closed = False

    def now(self) -> float:
        """The engine's clock: the loop's monotonic time (scaled for a sped-up demo)."""
        return self._loop.time() * self.clock_scale

    # ---- LinkHost ------------------------------------------------------------------------------

    def deliver(self, link: str, data: bytes, rx_info: RxInfo) -> None:
        """A transport received ``data`` on ``link``."""
        if self.closed:
            return
        try:
            self.engine.receive_frame(data, link, rx_info, self.now())
        except Exception:
            # The engine promises never to raise for remote input; if a bug breaks that promise,
            # one frame must not stop the transport task (and with it the whole daemon).
            self.engine_errors += 1
            log.exception("engine failed on a received frame link=%s bytes=%d", link, len(data))
        self.after_input()

    def poll(self, link: str) -> bytes | None:
        """A transport may send on ``link``: the engine's next frame, if any."""
        if self.closed:
            return None
        frame = self.engine.poll_frame(link, self.now())
        self._drain_events()
        self._rearm()
        return frame

    def refused(self, link: str, data: bytes) -> None:
        """The radio refused ``data`` (duty cycle): back-pressure for the engine."""
        if self.closed:
            return
        self.engine.send_refused(link, data, self.now())
        self.after_input()

    def radio_preset(self, link: str, preset: str) -> None:
        """The radio on ``link`` runs ``preset``: the engine counts airtime at it from now on."""
        if self.closed:
            return
        try:
            self.engine.set_link_preset(link, preset, self.now())
        except (KeyError, ValueError) as exc:
            log.error("cannot count airtime at the radio's preset link=%s preset=%s error=%s", link, preset, exc)
        self.after_input()

    def radio_metrics(self, link: str, metrics: RadioMetrics) -> None:
        """The radio's channel utilisation and own TX share reach the engine; a GPS fix, the trusted clock."""
        if self.closed:
            return
        self.engine.note_radio_metrics(link, metrics.channel_utilization, metrics.air_util_tx, self.now())
        if metrics.gps_time is not None and self.trusted_clock is not None:
            # the fix time is when the radio last had a fix, at most now: a late reading only makes
            # expiry more lenient, never refuses a work early
            self.trusted_clock.note_gps(metrics.gps_time, time.monotonic())
            self.engine.set_trusted_time(self.trusted_clock(), self.now())
        self.after_input()

    # ---- local inputs --------------------------------------------------------------------------

    def ingest(self, bundle: Bundle) -> bytes:
        """Hand a verified local bundle to the engine (stored and advertised); its work id."""
        work_id = self.engine.ingest_bundle(bundle, self.now())
        if work_id not in self.arrivals:
            now = time.time()
            self.arrivals[work_id] = Arrival(at=now, link=None, completed_at=now, uploaded=True)
        self.after_input()
        return work_id

    def apply_takedown(self, takedown: Takedown) -> None:
        """Hand a local curator takedown to the engine (applied and spread)."""
        self.engine.apply_takedown(takedown, self.now())
        self.after_input()

    def apply_revocation(self, revocation: Revocation) -> None:
        """Hand a local curator revocation to the engine (applied and spread)."""
        self.engine.apply_revocation(revocation, self.now())
        self.after_input()

    def note_trusted_time(self) -> None:
        """Tell the engine what the trusted clock says (None: not trustworthy); again in a while."""
        if self.closed or self.trusted_clock is None:
            return
        self.engine.set_trusted_time(self.trusted_clock(), self.now())
        self._clock_handle = self._loop.call_later(TRUSTED_CLOCK_POLL_S, self.note_trusted_time)

    def start(self) -> None:
        """Arm the first timer and let transports poll."""
        self.note_trusted_time()
        self.after_input()

    def after_input(self, min_delay: float = 0.0) -> None:
        """Drain events, re-arm the timer and wake the transports (after any engine input)."""
        self._drain_events()
        self._rearm(min_delay)
        for transport in self.transports.values():
            transport.wake()

    # ---- timer ---------------------------------------------------------------------------------

    def _rearm(self, min_delay: float = 0.0) -> None:
        when = self.engine.get_timer()
        if when is None:
            self._cancel_timer()
            return
        when = max(when, self.now() + min_delay) if min_delay else when
        if self._timer is not None and self._timer_at == when:
            return
        self._cancel_timer()
        self._timer_at = when
        self._timer = self._loop.call_at(when / self.clock_scale, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self.closed:
            return
        self.timer_runs += 1
        due = self._timer_at if self._timer_at is not None else self.now()
        try:
            self.engine.handle_timer(max(due, self.now()))
        except Exception:
            self.engine_errors += 1
            log.exception("engine timer failed")
        self.after_input(min_delay=BUSY_TIMER_SPACING_S)

    @property
    def timer_at(self) -> float | None:
        """When the armed timer fires (engine clock), or None."""
        return self._timer_at if self._timer is not None else None

    # ---- events --------------------------------------------------------------------------------

    def _drain_events(self) -> None:
        while (event := self.engine.next_event()) is not None:
            self._note(event)
            self.hub.publish(event)

    def _note(self, event: Event) -> None:
        if isinstance(event, PeerStatus):
            self.peers.heard(event, time.time())
        elif isinstance(event, ManifestReceived):
            self.arrivals.setdefault(event.work_id, Arrival(at=time.time(), link=event.link))
            log.info("work announced work=%s link=%s", event.work_id.hex()[:16], event.link)
        elif isinstance(event, WorkCompleted):
            now = time.time()
            known = self.arrivals.get(event.work_id) or Arrival(at=now, link=event.link)
            if known.completed_at is None:
                self.arrivals[event.work_id] = replace(known, completed_at=now)
            log.info("work complete work=%s link=%s", event.work_id.hex()[:16], event.link)
        elif isinstance(event, FrameDropped):
            log.debug("frame dropped reason=%s link=%s", event.reason, event.link)

    def close(self) -> None:
        """Stop feeding the engine (at shutdown)."""
        self.closed = True
        self._cancel_timer()
        if self._clock_handle is not None:
            self._clock_handle.cancel()
