"""A deterministic stand-in for the event loop's clock and call_later, for channel tests."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable

from meshtastic.protobuf import mesh_pb2

from simulator.virtual_radio.air import Air
from simulator.virtual_radio.links import Link, TableLinks
from simulator.virtual_radio.radio import VirtualRadio
from simulator.virtual_radio.state import default_state


class Handle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Handle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Handle:
        handle = Handle()
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), handle, callback))
        return handle

    def run_for(self, seconds: float) -> None:
        end = self.now + seconds
        while self._queue and self._queue[0][0] <= end:
            when, _, handle, callback = heapq.heappop(self._queue)
            self.now = when
            if not handle.cancelled:
                callback()
        self.now = end


class Client:
    """Collects what a radio sends to its API client."""

    configured = True

    def __init__(self) -> None:
        self.messages: list[mesh_pb2.FromRadio] = []

    def send(self, message: mesh_pb2.FromRadio) -> None:
        self.messages.append(message)

    def close(self) -> None:
        pass

    def packets(self, portnum: int | None = None) -> list[mesh_pb2.MeshPacket]:
        found = [m.packet for m in self.messages if m.HasField("packet")]
        return [p for p in found if portnum is None or p.decoded.portnum == portnum]


class Mesh:
    """Radios named in order, joined by a link table, each with a collecting client."""

    def __init__(self, names: list[str], links: dict[tuple[str, str], Link], duty_window_s: float = 3600.0,
                 seed: int = 3) -> None:
        self.time = VirtualTime()
        index = {name: i for i, name in enumerate(names)}
        table = {(index[a], index[b]): link for (a, b), link in links.items()}
        self.air = Air(TableLinks(table), self.time.clock, self.time.call_later)
        rng = random.Random(seed)
        self.radios: dict[str, VirtualRadio] = {}
        self.clients: dict[str, Client] = {}
        for name in names:
            radio = VirtualRadio(index[name], default_state(name), self.air, self.time.clock, self.time.call_later,
                                 random.Random(rng.getrandbits(32)), duty_window_s)
            client = Client()
            radio.attach_client(client)
            self.radios[name] = radio
            self.clients[name] = client


def both_ways(*pairs: tuple[str, str], snr: float = 5.0, rssi: float = -100.0) -> dict[tuple[str, str], Link]:
    links = {}
    for a, b in pairs:
        links[(a, b)] = Link(snr, rssi)
        links[(b, a)] = Link(snr, rssi)
    return links


def packet(portnum: int, payload: bytes, hop_limit: int, to: int = 0xFFFFFFFF, want_ack: bool = False,
           packet_id: int = 0) -> mesh_pb2.MeshPacket:
    p = mesh_pb2.MeshPacket(to=to, hop_limit=hop_limit, want_ack=want_ack, id=packet_id)
    p.decoded.portnum = portnum  # type: ignore[assignment]
    p.decoded.payload = payload
    return p
