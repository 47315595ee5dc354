"""A simulated LoRa channel on the asyncio loop, for the demo's in-process venue nodes.

The channel is the simulator's (:class:`simulator.channel.medium.Medium`: per-frame fading,
capture with preamble lock, half duplex, CAD, delivery), run on the loop's clock in real time or
sped up by ``speed``; the radios follow the firmware's contention window and a duty-cycle
ledger from the same package. Each node joins with an :class:`AirTransport`, a ``lora`` link
whose preset the engine's airtime ledger uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from node.lora import EU868_DUTY_CYCLE, Preset
from node.protocol.events import RxInfo
from node.transport.base import InboxTransport, LinkHost, RadioMetrics
from simulator.channel.contention import tx_delay
from simulator.channel.dutycycle import DutyCycleLedger
from simulator.channel.links import LinkTable
from simulator.channel.medium import Frame, Medium, derived_rng
from simulator.channel.propagation import ChannelModel
from simulator.scenarios import Topology

TICKS = 1_000_000  # the channel keeps integer microseconds of engine time, as the simulator does
METRICS_INTERVAL_S = 60.0  # DeviceTelemetryModule: the radio's device metrics to its client, in engine seconds
Clock = Callable[[], float]  # engine seconds
Later = Callable[[float, Callable[[], None]], object]  # (engine seconds from now, callback)


@dataclass
class _OnAir:
    sender: int
    data: bytes
    frame: Frame


class DemoAir:
    """The shared channel: who hears whom, collisions, and delivery after the time on air.

    ``clock`` and ``later`` default to the running loop's clock (times ``speed``) and
    ``call_later``; tests pass their own.
    """

    def __init__(self, topology: Topology, preset: Preset, *, speed: float = 1.0, seed: int = 1,
                 model: ChannelModel | None = None, clock: Clock | None = None, later: Later | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.topology = topology
        self.preset = preset
        self.speed = speed
        self.model = model or ChannelModel()
        self.links = LinkTable(topology, preset, self.model)
        self.medium = Medium(len(topology.nodes), preset, self.model, seed=seed)
        self._clock = clock
        self._later = later
        self._members: dict[int, AirTransport] = {}
        self.frames_sent = 0

    @property
    def collisions(self) -> int:
        """Decodable frames lost to collisions."""
        return self.medium.collisions

    def now(self) -> float:
        """Engine time on the demo clock, in seconds."""
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time() * self.speed

    def now_ticks(self) -> int:
        """Engine time on the demo clock, in microseconds."""
        return round(self.now() * TICKS)

    def _call_later(self, engine_s: float, callback: Callable[[], None]) -> None:
        if self._later is not None:
            self._later(engine_s, callback)
        else:
            asyncio.get_running_loop().call_later(engine_s / self.speed, callback)

    def join(self, member: AirTransport) -> None:
        """Attach a node's transport (by its index in the topology)."""
        self._members[member.index] = member

    def leave(self, member: AirTransport) -> None:
        """Detach a node's transport."""
        self._members.pop(member.index, None)

    def busy_at(self, index: int) -> bool:
        """Channel activity detection: is a frame on the air that this node hears?"""
        return self.medium.cad_busy(index, self.now_ticks())

    def utilisation_percent(self, index: int) -> float:
        """The node's channel utilisation (``channelUtilizationPercent``)."""
        return self.medium.utilisation_percent(index, self.now_ticks())

    def transmit(self, sender: int, data: bytes) -> float:
        """Put ``data`` on the air now; returns its time on air in engine seconds."""
        airtime = self.preset.frame_airtime(len(data))
        start = self.now_ticks()
        end = start + round(airtime * TICKS)
        self.frames_sent += 1
        frame = self.medium.transmit(sender, self.links.paths[sender], start, end)
        on_air = _OnAir(sender, data, frame)
        self._call_later(airtime, lambda: self._finish(on_air))
        return airtime

    def _finish(self, on_air: _OnAir) -> None:
        name = self.topology.nodes[on_air.sender].name
        for reception in self.medium.finish(on_air.frame):
            member = self._members.get(reception.receiver)
            if member is None:
                continue
            snr = self.model.snr_db(reception.power, self.preset)
            member.arrive(on_air.data, RxInfo(sender=name, snr=round(snr, 2), rssi=round(reception.power, 1)))


class AirTransport(InboxTransport):
    """One venue node's radio on the :class:`DemoAir` channel."""

    kind = "lora"

    def __init__(self, air: DemoAir, index: int, link: str = "radio") -> None:
        super().__init__(link)
        self.air = air
        self.index = index
        self.preset = air.preset.name
        self.ledger = DutyCycleLedger(EU868_DUTY_CYCLE, "strict", keep_history=False)
        self._rng = derived_rng(index, "demo-mac")
        self._metrics_at = 0.0

    def attach(self) -> None:
        """Join the channel."""
        self.air.join(self)
        self.state.details["preset"] = self.preset

    def detach(self) -> None:
        """Leave the channel."""
        self.air.leave(self)

    async def _send_loop(self, host: LinkHost) -> None:
        slot = self.air.preset.slot_time
        speed = self.air.speed
        while True:
            self._report_metrics(host)
            # getTxDelayMsec, then CAD: a busy channel means a fresh random wait (RadioLibInterface::onNotify)
            await asyncio.sleep(tx_delay(self.air.utilisation_percent(self.index), slot, self._rng) / speed)
            if self.air.busy_at(self.index):
                continue
            frame = host.poll(self.link)
            if frame is None:
                await self.wait_for_wake(timeout=1.0)
                continue
            airtime = self.air.preset.frame_airtime(len(frame))
            now = self.air.now_ticks()
            ticks = round(airtime * TICKS)
            if not self.ledger.allows(now, ticks):
                self.drop("duty-cycle")
                host.refused(self.link, frame)
                await asyncio.sleep(max(self.ledger.next_allowed(now, ticks) - now, TICKS) / TICKS / speed)
                continue
            self.ledger.record(now, now + ticks)
            self.air.transmit(self.index, frame)
            self.count_out(frame)
            await asyncio.sleep(airtime / speed)

    def _report_metrics(self, host: LinkHost) -> None:
        """The radio's channel utilisation and TX share, as a real radio sends them to the daemon."""
        now = self.air.now()
        if now < self._metrics_at:
            return
        self._metrics_at = now + METRICS_INTERVAL_S
        share = self.ledger.share(self.air.now_ticks())
        host.radio_metrics(self.link, RadioMetrics(self.air.utilisation_percent(self.index), round(100 * share, 3)))
