"""Baseline: the work sent as Meshtastic broadcasts under managed flooding.

Modelled on the firmware facts in reference/meshtastic.md §5 (``FloodingRouter``,
``RadioInterface::getTxDelayMsecWeighted``, ``PacketHistory``), for the CLIENT role:

* the source broadcasts every manifest piece and every chunk as its own packet, hop limit 3,
  and, like a ``want_ack`` broadcast, retransmits up to 3 times when it hears no rebroadcast
  (implicit ACK) within ``getRetransmissionMsec``;
* a node that hears a packet for the first time (dedupe by (from, id)) rebroadcasts it with the
  hop limit decremented, after ``2·CWmax·slot + random(0, 2^CW)·slot`` where
  ``CW = map(SNR, −20, 10, 3, 8)``: far (low-SNR) nodes go first;
* hearing a duplicate cancels the pending rebroadcast; a repeat by the originator itself is
  relayed again so the originator gets its implicit ACK;
* a rebroadcast refused by the duty cycle is dropped; the source's own packet is retried.

Frames carry a 9-byte (from, id, hop limit) prefix standing for the fields of Meshtastic's
16-byte header, which the airtime already counts (see ``INBAND_HEADER_BYTES``).
"""

from __future__ import annotations

import contextlib
import heapq
import random
import struct
from dataclasses import dataclass, field

from node.artwork import TrustAnchors
from node.artwork.bundle import Bundle
from node.artwork.errors import VerificationError
from node.artwork.manifest import verify_manifest
from node.lora import MAX_APP_PAYLOAD, Preset
from node.protocol.events import RxInfo
from node.store.base import StoreError, WorkStore

HOP_LIMIT = 3
CW_MIN, CW_MAX = 3, 8
SNR_MIN, SNR_MAX = -20, 10
NUM_RELIABLE_RETX = 3
_ROUTING = struct.Struct(">IIB")  # from, packet id, hop limit
_PIECE = struct.Struct(">B4sH")  # kind, short work id, index
_MANIFEST_PIECE = struct.Struct(">B4sHH")  # kind, short work id, index, piece count
MANIFEST_BODY = MAX_APP_PAYLOAD - _MANIFEST_PIECE.size  # 222: every packet fits the 231-byte payload
KIND_MANIFEST, KIND_CHUNK = 1, 2


def cw_size(snr: float) -> int:
    """``getCWsize``: Arduino integer ``map(snr, −20, 10, 3, 8)``, clamped to 3..8."""
    mapped = int((int(snr) - SNR_MIN) * (CW_MAX - CW_MIN) / (SNR_MAX - SNR_MIN)) + CW_MIN
    return max(CW_MIN, min(CW_MAX, mapped))


def client_rebroadcast_delay(snr: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsecWeighted`` for a CLIENT, in seconds."""
    return 2 * CW_MAX * slot + rng.randrange(2 ** cw_size(snr)) * slot


def retransmission_timeout(airtime: float, slot: float) -> float:
    """``getRetransmissionMsec`` with the smallest contention window, in seconds."""
    return 2 * airtime + (2**CW_MIN + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)) * slot + 4.5


def work_packets(bundle: Bundle) -> list[bytes]:
    """The manifest bytes and every chunk, each cut to fit one frame like the gossip data frames."""
    short = bundle.signed.short_id
    raw = bundle.signed.raw
    pieces = [raw[i : i + MANIFEST_BODY] for i in range(0, len(raw), MANIFEST_BODY)]
    out = [_MANIFEST_PIECE.pack(KIND_MANIFEST, short, i, len(pieces)) + p for i, p in enumerate(pieces)]
    out += [_PIECE.pack(KIND_CHUNK, short, i) + c for i, c in enumerate(bundle.chunks())]
    assert all(len(frame) <= MAX_APP_PAYLOAD for frame in out)
    return out


@dataclass
class FloodHoldings:
    """What a flooding node keeps across reboots: its store and any pieces not yet usable."""

    store: WorkStore
    manifest_pieces: dict[int, bytes] = field(default_factory=dict)
    early_chunks: dict[int, bytes] = field(default_factory=dict)
    work_id: bytes | None = None


@dataclass
class _Pending:
    due: float
    frame: bytes


@dataclass
class _Unacked:
    deadline: float | None  # None while a retransmission waits in the queue
    retries: int
    frame: bytes


class FloodAgent:
    """One node running Meshtastic managed flooding (CLIENT role)."""

    INBAND_HEADER_BYTES = _ROUTING.size

    def __init__(self, node_num: int, holdings: FloodHoldings, rng: random.Random, preset: Preset,
                 trust: TrustAnchors, now: float = 0.0) -> None:
        self.node_num = node_num
        self.holdings = holdings
        self.rng = rng
        self.slot = preset.slot_time
        self.full_airtime = preset.frame_airtime(MAX_APP_PAYLOAD)
        self.trust = trust
        self.seen: set[tuple[int, int]] = set()
        self.pending: dict[tuple[int, int], _Pending] = {}
        self._due: list[tuple[float, int, tuple[int, int]]] = []  # lazy heap over pending
        self._heap_seq = 0
        self.own_queue: list[tuple[int, bytes]] = []  # (packet id, payload) not yet sent
        self.unacked: dict[int, _Unacked] = {}  # own packets waiting for an implicit ACK
        self.next_id = 1
        self.cancelled = 0
        self.refused = 0

    # -- the source side -------------------------------------------------------------------
    def originate(self, bundle: Bundle, now: float) -> None:
        """Publish a work: store it and queue one broadcast per manifest piece and chunk."""
        self.holdings.store.ingest_bundle(bundle, now)
        self.holdings.work_id = bundle.work_id
        for payload in work_packets(bundle):
            self.own_queue.append((self.next_id, payload))
            self.next_id += 1
        self.own_queue.reverse()  # pop() from the end sends them in order

    # -- NodeAgent ---------------------------------------------------------------------------
    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Dedupe, keep the payload, and schedule or cancel a rebroadcast."""
        if len(data) < _ROUTING.size:
            return
        sender, packet_id, hops = _ROUTING.unpack_from(data)
        key = (sender, packet_id)
        if sender == self.node_num:  # someone relayed our packet: implicit ACK
            self.unacked.pop(packet_id, None)
            self.pending.pop(key, None)
            return
        if key in self.seen:
            if key in self.pending:
                del self.pending[key]
                self.cancelled += 1
            elif hops == HOP_LIMIT:
                self._schedule(key, data, hops, rx_info, now)  # the originator retried: ACK it
            return
        self.seen.add(key)
        self._take(data[_ROUTING.size :], now)
        if hops > 0:
            self._schedule(key, data, hops, rx_info, now)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The earliest due rebroadcast or retransmission, else the source's next packet."""
        while self._due and self._due[0][0] <= now:
            _, _, key = heapq.heappop(self._due)
            item = self.pending.get(key)
            if item is None or item.due > now:
                continue
            del self.pending[key]
            if key[0] == self.node_num:
                self._arm(key[1], now)
            return item.frame
        if self.own_queue:
            packet_id, payload = self.own_queue.pop()
            frame = _ROUTING.pack(self.node_num, packet_id, HOP_LIMIT) + payload
            self.seen.add((self.node_num, packet_id))
            self.unacked[packet_id] = _Unacked(None, NUM_RELIABLE_RETX, frame)
            self._arm(packet_id, now)
            return frame
        return None

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """Duty cycle: our own packet goes back to the queue, a rebroadcast is dropped."""
        self.refused += 1
        sender, packet_id, _ = _ROUTING.unpack_from(data)
        if sender == self.node_num:
            entry = self.unacked.pop(packet_id, None)
            if entry is not None:
                self._push((sender, packet_id), _Pending(now, data))
                self.unacked[packet_id] = entry

    def get_timer(self) -> float | None:
        """Next rebroadcast or retransmission check; 0 while the source has packets queued."""
        if self.own_queue:
            return 0.0
        while self._due and self.pending.get(self._due[0][2]) is None:
            heapq.heappop(self._due)
        times = [u.deadline for u in self.unacked.values() if u.deadline is not None]
        if self._due:
            times.append(self._due[0][0])
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        """Queue a retransmission of every own packet nobody relayed in time."""
        for packet_id in sorted(self.unacked):
            entry = self.unacked[packet_id]
            if entry.deadline is None or entry.deadline > now:
                continue
            if entry.retries == 0:
                del self.unacked[packet_id]
                continue
            entry.retries -= 1
            entry.deadline = None  # re-armed when it is sent
            self._push((self.node_num, packet_id), _Pending(now, entry.frame))

    # -- internals ---------------------------------------------------------------------------
    def _schedule(self, key: tuple[int, int], data: bytes, hops: int, rx_info: RxInfo, now: float) -> None:
        snr = rx_info.snr if rx_info.snr is not None else 0.0
        frame = _ROUTING.pack(key[0], key[1], hops - 1) + data[_ROUTING.size :]
        self._push(key, _Pending(now + client_rebroadcast_delay(snr, self.slot, self.rng), frame))

    def _arm(self, packet_id: int, now: float) -> None:
        entry = self.unacked.get(packet_id)
        if entry is not None:
            entry.deadline = now + retransmission_timeout(self.full_airtime, self.slot)

    def _push(self, key: tuple[int, int], item: _Pending) -> None:
        self.pending[key] = item
        self._heap_seq += 1
        heapq.heappush(self._due, (item.due, self._heap_seq, key))

    def _take(self, payload: bytes, now: float) -> None:
        if len(payload) < _PIECE.size:
            return
        kind, _short, index = _PIECE.unpack_from(payload)
        body = payload[_PIECE.size :]
        h = self.holdings
        if kind == KIND_MANIFEST and h.work_id is None and len(payload) >= _MANIFEST_PIECE.size:
            count = _MANIFEST_PIECE.unpack_from(payload)[3]
            body = payload[_MANIFEST_PIECE.size :]
            h.manifest_pieces[index] = body
            if len(h.manifest_pieces) == count:
                self._assemble_manifest(count, now)
        elif kind == KIND_CHUNK:
            if h.work_id is None:
                h.early_chunks[index] = body
            else:
                self._put_chunk(index, body)

    def _assemble_manifest(self, count: int, now: float) -> None:
        h = self.holdings
        raw = b"".join(h.manifest_pieces[i] for i in range(count))
        try:
            signed = verify_manifest(raw, self.trust)
            h.store.put_manifest(signed, now)
        except (VerificationError, StoreError):
            h.manifest_pieces.clear()
            return
        h.work_id = signed.work_id
        for index in sorted(h.early_chunks):
            self._put_chunk(index, h.early_chunks[index])
        h.early_chunks.clear()

    def _put_chunk(self, index: int, body: bytes) -> None:
        assert self.holdings.work_id is not None
        with contextlib.suppress(StoreError):
            self.holdings.store.put_chunk(self.holdings.work_id, index, body)
