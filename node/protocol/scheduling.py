"""Scheduling: which frame a link transmits next, when it next has one within budget, and
taking back the frames the radio refused.

The :class:`LinkScheduler` holds no state of its own: it reads the candidates the link's
:class:`~node.protocol.outbox.LinkOutbox` (control frames), the transfers (requests) and the
:class:`~node.protocol.serving.Server` (answers) offer, orders them, coalesces control frames
into one batch, charges the outbox's budget and settles what it sent. Congestion control
(:class:`~node.protocol.congestion.ChannelLoad`) paces bulk data and is told of every frame.
A frame the radio refused goes back to whoever owes it: the serve job, the fetcher's request,
the curator orders, or the outbox.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from node.artwork.revocation import Revocation
from node.artwork.takedown import Takedown
from node.protocol import frames as fr
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.congestion import ChannelLoad
from node.protocol.fetching import Fetcher
from node.protocol.held import HeldWorks
from node.protocol.outbox import (
    PRIO_ADVERT,
    PRIO_DATA,
    PRIO_MANIFEST,
    PRIO_REQUEST,
    PRIO_STATUS,
    Candidate,
    LinkOutbox,
    Source,
)
from node.protocol.serving import Answer, Server
from node.protocol.takedowns import CuratorOrders
from node.protocol.transfer import TransferTable, WorkTransfer


class LinkScheduler:
    """Picks each link's next frame from the outbox, the requests and the serve jobs."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                 loads: dict[str, ChannelLoad], held: HeldWorks, transfers: TransferTable, fetcher: Fetcher,
                 server: Server, takedowns: CuratorOrders[Takedown], revocations: CuratorOrders[Revocation]) -> None:
        self._config = config
        self._links = links
        self._outboxes = outboxes
        self._loads = loads
        self._held = held
        self._transfers = transfers
        self._fetcher = fetcher
        self._server = server
        self._takedowns = takedowns
        self._revocations = revocations

    def poll(self, link: str, now: float) -> bytes | None:
        """The frame ``link`` transmits now, charged and settled; None when nothing fits now."""
        outbox = self._outboxes[link]
        while True:
            ready = [c for c in self.candidates(link, now) if c.not_before <= now]
            if not ready:
                return None
            cand = ready[0]
            answer = self._render(link, cand)
            if answer is None:
                self._discard(link, cand)
                continue
            batch = self._coalesce(link, [(cand, answer)], ready[1:])
            data = answer.data if len(batch) == 1 else fr.encode(fr.Batch(tuple(a.data for _, a in batch)))
            if len(batch) > 1 and outbox.budget_time(len(data), now) > now:
                batch, data = batch[:1], answer.data  # the budget has room for the first alone (ready_at's promise)
            size = len(data)
            if outbox.budget_time(size, now) > now:
                return None
            for sent, rendered in batch:
                self._sent(link, sent, rendered, now)
            outbox.charge(size, now)
            load = self._loads.get(link)
            if load is not None:
                airtime = self._links[link].frame_cost(size)
                load.note_airtime(airtime, now, own=True)
                if cand.priority == PRIO_DATA:
                    load.data_sent(airtime, now)
            return data

    def refused(self, link: str, data: bytes, now: float) -> None:
        """The radio refused ``data``: refund its budget, back the link off, owe or queue it again."""
        outbox = self._outboxes[link]
        outbox.refund(len(data), now)
        outbox.blocked_until = now + self._config.refused_backoff_s
        self.requeue(link, data, now)

    def requeue(self, link: str, data: bytes, now: float) -> None:
        """Owe a refused frame again, or queue it again."""
        outbox = self._outboxes[link]
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        match frame:
            case fr.Batch():
                for inner in frame.frames:
                    self.requeue(link, inner, now)
            case fr.DataChunk() | fr.CodedChunk() | fr.ManifestPiece():
                signed = self._held.manifest(frame.short_id)
                if signed is not None:
                    transfer = self._transfers.get_or_create(frame.short_id, signed.work_id)
                    self._server.requeue(transfer, signed, link, frame, now)
            case fr.Request(target=fr.TARGET_TAKEDOWN):
                self._takedowns.requeue_request(data, frame.short_id, link, now)
            case fr.Request(target=fr.TARGET_REVOCATION):
                self._revocations.requeue_request(data, frame.short_id, link, now)
            case fr.Request():
                fetching = self._transfers.get(frame.short_id)
                if fetching is not None and fetching.fetch is not None:
                    self._fetcher.requeue(fetching, link, data, now)
            case fr.TakedownFrame():
                self._takedowns.requeue(data, link, now)
            case fr.RevocationFrame():
                self._revocations.requeue(data, link, now)
            case fr.Advert():
                outbox.put(("advert",), data, PRIO_ADVERT, now)
            case fr.StatusBeacon():
                outbox.put(("status",), data, PRIO_STATUS, now)

    def candidates(self, link: str, now: float) -> list[Candidate]:
        """Everything ``link`` could send next, most important first (ignoring time and budget)."""
        out = self._outboxes[link].control_candidates()
        load = self._loads.get(link)
        data_at = load.data_allowed_at() if load is not None else -math.inf
        for transfer in self._transfers:
            request = transfer.requests.get(link)
            if request is not None:
                out.append(Candidate(PRIO_REQUEST, request.not_before, request.seq, len(request.data),
                                     Source.REQUEST, short_id=transfer.short_id))
            answer = self._server.candidate(transfer, link, now)
            if answer is not None:
                if answer.priority == PRIO_DATA and answer.not_before < data_at:
                    answer = replace(answer, not_before=data_at)  # congestion control paces bulk data
                out.append(answer)
        out.sort(key=Candidate.order)
        return out

    def ready_at(self, link: str, now: float) -> float:
        """When poll(link) will next have a frame within budget (consistent with its choice)."""
        cands = self.candidates(link, now)
        if not cands:
            return math.inf
        start = max(now, min(c.not_before for c in cands))
        top = next(c for c in cands if c.not_before <= start)
        return self._outboxes[link].budget_time(top.size, start)

    def _coalesce(self, link: str, batch: list[tuple[Candidate, Answer]],
                  others: list[Candidate]) -> list[tuple[Candidate, Answer]]:
        """Control frames that go out with the first one, as one batch frame (``coalesce_control``)."""
        if not self._links[link].coalesce_control or batch[0][0].priority >= PRIO_MANIFEST:
            return batch
        for cand in others:
            if cand.priority >= PRIO_MANIFEST:
                break  # candidates are sorted: only answers follow
            if fr.Batch.size([a.data for _, a in batch]) + 1 + cand.size > fr.MAX_FRAME:
                continue
            answer = self._render(link, cand)
            if answer is not None and answer.data[0] & 0x0F != fr.KIND_BATCH:
                batch.append((cand, answer))
        return batch

    def _render(self, link: str, cand: Candidate) -> Answer | None:
        match cand.source:
            case Source.CONTROL:
                queued = self._outboxes[link].control(cand.tag)
                return Answer(queued.data) if queued is not None else None
            case Source.REQUEST:
                transfer = self._transfers.get(cand.short_id)
                request = transfer.requests.get(link) if transfer is not None else None
                return Answer(request.data) if request is not None else None
        transfer = self._transfers.get(cand.short_id)
        return self._server.render(transfer, link, cand) if transfer is not None else None

    def _sent(self, link: str, cand: Candidate, answer: Answer, now: float) -> None:
        self._settle(link, cand, lambda transfer: self._server.sent(transfer, link, cand, answer, now))

    def _discard(self, link: str, cand: Candidate) -> None:
        self._settle(link, cand, lambda transfer: self._server.unrenderable(transfer, link, cand))

    def _settle(self, link: str, cand: Candidate, served: Callable[[WorkTransfer], None]) -> None:
        """A candidate left the link (sent or unrenderable): clear it; ``served`` settles a serve job."""
        transfer = self._transfers.get(cand.short_id)
        match cand.source:
            case Source.CONTROL:
                self._outboxes[link].cancel(cand.tag)
            case Source.REQUEST if transfer is not None:
                transfer.requests.pop(link, None)
                self._transfers.tidy(transfer)
            case Source.PIECE | Source.CHUNK | Source.CODED if transfer is not None:
                served(transfer)
