"""Retries of a radio's own ``want_ack`` packets, and the NAK when they all fail.

Firmware ``ReliableRouter::send`` starts a retransmission record for every want_ack packet it
sends (broadcasts too: their ACK is a neighbour's rebroadcast). ``NextHopRouter::doRetransmissions``
resends it when the timer of ``RadioInterface::getRetransmissionMsec`` runs out and, once no
retry is left, sends the client a Routing NAK ``MAX_RETRANSMIT``. ``PendingPacket`` subtracts the
first send from ``NUM_RELIABLE_RETX = 3``: the packet goes out three times in all, and the NAK
follows the third timeout. An ACK, a reply, a NAK or the implicit ACK stops the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from meshtastic.protobuf import mesh_pb2

from node.lora import MESHTASTIC_HEADER, Preset
from simulator.channel.contention import retransmission_timeout
from simulator.virtual_radio.air import Cancellable, Scheduler

NUM_RELIABLE_RETX = 3  # NextHopRouter.h

PacketKey = tuple[int, int]  # (from, id)


def retransmission_interval_s(preset: Preset, data_len: int, channel_util_percent: float) -> float:
    """Seconds before a retry: two airtimes and a contention allowance (``getRetransmissionMsec``)."""
    return retransmission_timeout(preset.airtime(MESHTASTIC_HEADER + data_len), preset.slot_time, channel_util_percent)


@dataclass
class _Pending:
    packet: mesh_pb2.MeshPacket
    retries_left: int
    interval_s: float
    timer: Cancellable | None = None


class Retransmissions:
    """The radio's pending reliable packets, each with its retry timer."""

    def __init__(self, schedule: Scheduler, resend: Callable[[mesh_pb2.MeshPacket], None],
                 give_up: Callable[[mesh_pb2.MeshPacket], None]) -> None:
        self._schedule = schedule
        self._resend = resend
        self._give_up = give_up
        self._pending: dict[PacketKey, _Pending] = {}

    def start(self, packet: mesh_pb2.MeshPacket, interval_s: float) -> None:
        """Track ``packet`` (just sent for the first time) until it is acknowledged."""
        key = (getattr(packet, "from"), packet.id)
        self.stop(key)
        copy = mesh_pb2.MeshPacket()
        copy.CopyFrom(packet)
        entry = _Pending(copy, NUM_RELIABLE_RETX - 1, interval_s)
        self._pending[key] = entry
        self._arm(key, entry)

    def stop(self, key: PacketKey) -> bool:
        """Forget ``key``; True if it was pending (its ACK had not come yet)."""
        entry = self._pending.pop(key, None)
        if entry is None:
            return False
        if entry.timer is not None:
            entry.timer.cancel()
        return True

    def clear(self) -> None:
        """Drop every record (a reboot: they live in RAM)."""
        for key in list(self._pending):
            self.stop(key)

    def __contains__(self, key: PacketKey) -> bool:
        return key in self._pending

    def _arm(self, key: PacketKey, entry: _Pending) -> None:
        entry.timer = self._schedule(entry.interval_s, lambda: self._due(key))

    def _due(self, key: PacketKey) -> None:
        entry = self._pending.get(key)
        if entry is None:
            return
        if entry.retries_left == 0:
            del self._pending[key]
            self._give_up(entry.packet)
            return
        entry.retries_left -= 1
        self._resend(entry.packet)
        self._arm(key, entry)
