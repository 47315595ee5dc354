"""A simulated LoRa channel on the asyncio loop, for the demo's in-process venue nodes.

It uses the simulator's channel model (log-distance path loss with per-frame shadowing,
sensitivity, 6 dB capture with the preamble-lock rule, half duplex) and the exact time on air
of each frame, in real time or sped up by ``speed``. Each node joins with an
:class:`AirTransport`, a ``lora`` link whose preset the engine's airtime ledger uses.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass, field

from node.lora import EU868_DUTY_CYCLE, Preset
from node.protocol.events import RxInfo
from node.transport.base import InboxTransport, LinkHost
from simulator.links import LinkTable
from simulator.phy import ChannelModel, Signal, survives, symbol_time
from simulator.scenarios import Topology

TICKS = 1_000_000  # the channel keeps integer microseconds of engine time, as the simulator does
HOUR = 3600.0


@dataclass
class _Reception:
    receiver: int
    signal: Signal
    lost: bool = False


@dataclass
class _Transmission:
    sender: int
    data: bytes
    receptions: list[_Reception] = field(default_factory=list)


class DemoAir:
    """The shared channel: who hears whom, collisions, and delivery after the time on air."""

    def __init__(self, topology: Topology, preset: Preset, *, speed: float = 1.0, seed: int = 1,
                 model: ChannelModel | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.topology = topology
        self.preset = preset
        self.speed = speed
        self.model = model or ChannelModel()
        self.links = LinkTable(topology, preset, self.model)
        self.threshold_dbm = self.model.rx_threshold_dbm(preset)
        self._rng = random.Random(seed)
        self._members: dict[int, AirTransport] = {}
        self._in_flight: dict[int, list[_Reception]] = {}
        self._tx_until: dict[int, int] = {}
        self.frames_sent = 0
        self.collisions = 0
        # all but the last 5 preamble symbols: the receiver has locked on after this
        self._critical = int((16 - 5) * symbol_time(preset) * TICKS)

    def now_ticks(self) -> int:
        """Engine time on the demo clock, in microseconds."""
        return int(asyncio.get_running_loop().time() * self.speed * TICKS)

    def join(self, member: AirTransport) -> None:
        """Attach a node's transport (by its index in the topology)."""
        self._members[member.index] = member

    def leave(self, member: AirTransport) -> None:
        """Detach a node's transport."""
        self._members.pop(member.index, None)

    def busy_at(self, index: int) -> bool:
        """Channel activity detection: is a frame on the air that this node hears?"""
        now = self.now_ticks()
        return any(r.signal.end > now for r in self._in_flight.get(index, ()))

    def transmit(self, sender: int, data: bytes) -> float:
        """Put ``data`` on the air now; returns its time on air in engine seconds."""
        airtime = self.preset.frame_airtime(len(data))
        start = self.now_ticks()
        end = start + int(airtime * TICKS)
        self._tx_until[sender] = end
        self.frames_sent += 1
        tx = _Transmission(sender, data)
        for neighbour in self.links.neighbours[sender]:
            power = neighbour.mean_dbm + self._rng.gauss(0.0, self.model.shadowing_sigma_db)
            decodable = power >= self.threshold_dbm and self._rng.random() >= neighbour.extra_loss
            reception = _Reception(neighbour.receiver, Signal(start, end, power, decodable))
            self._collide(reception)
            tx.receptions.append(reception)
            self._in_flight.setdefault(neighbour.receiver, []).append(reception)
        asyncio.get_running_loop().call_later(airtime / self.speed, self._finish, tx)
        return airtime

    def _collide(self, new: _Reception) -> None:
        for other in self._in_flight.get(new.receiver, ()):
            if other.signal.end <= new.signal.start:
                continue
            if not survives(other.signal, new.signal, self._critical, self.model.capture_db):
                if not other.lost:
                    self.collisions += 1
                other.lost = True
            if not survives(new.signal, other.signal, self._critical, self.model.capture_db):
                new.lost = True

    def _finish(self, tx: _Transmission) -> None:
        name = self.topology.nodes[tx.sender].name
        for reception in tx.receptions:
            flight = self._in_flight.get(reception.receiver, [])
            if reception in flight:
                flight.remove(reception)
            half_duplex = self._tx_until.get(reception.receiver, 0) > reception.signal.start
            member = self._members.get(reception.receiver)
            if reception.lost or not reception.signal.decodable or half_duplex or member is None:
                continue
            snr = self.model.snr_db(reception.signal.power, self.preset)
            member.arrive(tx.data, RxInfo(sender=name, snr=round(snr, 2), rssi=round(reception.signal.power, 1)))


class AirTransport(InboxTransport):
    """One venue node's radio on the :class:`DemoAir` channel."""

    kind = "lora"

    def __init__(self, air: DemoAir, index: int, link: str = "radio") -> None:
        super().__init__(link)
        self.air = air
        self.index = index
        self.preset = air.preset.name
        self._sent: deque[tuple[float, float]] = deque()  # (engine time, airtime) in the last hour
        self._rng = random.Random(1000 + index)

    def _duty_cycle_allows(self, airtime: float) -> bool:
        now = self.air.now_ticks() / TICKS
        while self._sent and self._sent[0][0] < now - HOUR:
            self._sent.popleft()
        used = sum(a for _, a in self._sent)
        return used + airtime <= EU868_DUTY_CYCLE * HOUR

    def attach(self) -> None:
        """Join the channel."""
        self.air.join(self)
        self.state.details["preset"] = self.preset

    def detach(self) -> None:
        """Leave the channel."""
        self.air.leave(self)

    async def _send_loop(self, host: LinkHost) -> None:
        slot = self.air.preset.slot_time / self.air.speed
        while True:
            # listen before talk, as the firmware does: wait random slots while the channel is busy
            while self.air.busy_at(self.index):
                await asyncio.sleep(slot * self._rng.randint(1, 8))
            frame = host.poll(self.link)
            if frame is None:
                await self.wait_for_wake(timeout=1.0)
                continue
            airtime = self.air.preset.frame_airtime(len(frame))
            if not self._duty_cycle_allows(airtime):
                self.drop("duty-cycle")
                host.refused(self.link, frame)
                await asyncio.sleep(30.0 / self.air.speed)
                continue
            self._sent.append((self.air.now_ticks() / TICKS, airtime))
            self.air.transmit(self.index, frame)
            self.count_out(frame)
            await asyncio.sleep(airtime / self.air.speed)
