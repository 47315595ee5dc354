"""Serving: answering requests with broadcast manifest pieces, chunks and coded repair frames.

The :class:`Server` owns the answer credits (what each requester may still cost this node on a
link) and the rules of a serve job; the jobs themselves belong to their work's transfer
(``WorkTransfer.serving``). Answers are rendered only when the link may transmit, so an
overheard copy can still cancel them (Deluge-style) and memory stays small.

Rules: a frame serving k requesters costs each 1/k of its credit; a frame a neighbour sends
counts too (the channel served them), chunks and manifest pieces alike, so holders in earshot
share one budget per requester. A manifest request is promised only when the requester can pay
for every piece it asks for, and manifests a requester was sent whole but never used (it asked
for none of the work's chunks and does not advertise it) raise the price of its next ones
(:class:`ManifestUse`).
Partial holders answer later than complete ones. XOR combinations go out instead of plain
chunks when they fill every requester's holes in fewer frames.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from node.artwork.manifest import SignedManifest
from node.protocol import frames as fr
from node.protocol.bounded import LruMap
from node.protocol.coding import chunk_int, coded_indices, int_chunk
from node.protocol.config import EngineConfig, LinkConfig
from node.protocol.fairness import AnswerCredits, ManifestUse
from node.protocol.outbox import PRIO_DATA, PRIO_MANIFEST, Candidate, LinkOutbox, Source
from node.protocol.transfer import MAX_REQUESTERS_PER_JOB, ServeJob, TransferTable, WorkTransfer
from node.store.base import WorkStore

SEED_CANDIDATES = 24  # combinations tried per coded frame
ANSWER_CREDIT_ENTRIES = 256  # requester budgets kept per link
IDENTITY_ENTRIES = 256  # radio ids bound to beacon keys
UNUSED_SLACK = 0  # unused manifests a requester may have had lately at the normal price
MAX_UNUSED_FACTOR = 64.0  # manifests cost a requester that never uses them at most this many times more
REFUSED = "(refused)"  # the owner of answers the radio refused: owed again, charged to nobody


@dataclass(frozen=True)
class Answer:
    """A rendered answer frame and what it covers (for charging once it is sent)."""

    data: bytes
    mask: int = 0  # chunks covered (0 for a manifest piece)
    seed: int = -1  # the seed of a coded frame


class Server:
    """Answer credits per link, and the serve jobs of every transfer."""

    def __init__(self, config: EngineConfig, links: dict[str, LinkConfig], outboxes: dict[str, LinkOutbox],
                 transfers: TransferTable, store: WorkStore, rng: random.Random,
                 rank_of: Callable[[bytes], tuple[int, bytes]]) -> None:
        self._config = config
        self._links = links
        self._outboxes = outboxes
        self._transfers = transfers
        self._store = store
        self._rng = rng
        self._rank_of = rank_of
        self._credits = {name: AnswerCredits(lc.hourly_budget_s, config.answer_share, config.answer_unbound_share,
                                             config.answer_refill_s, ANSWER_CREDIT_ENTRIES)
                         for name, lc in links.items()}
        self._manifest_use = {name: ManifestUse(config.answer_refill_s, UNUSED_SLACK, MAX_UNUSED_FACTOR,
                                                ANSWER_CREDIT_ENTRIES) for name in links}
        self._bound: LruMap[str, tuple[bytes, float]] = LruMap(IDENTITY_ENTRIES)  # radio id -> (key, since)

    # -- identities -----------------------------------------------------------------------

    def bind(self, sender: str, node_key: bytes, now: float) -> None:
        """A fresh, verified beacon signed by ``node_key`` came from radio id ``sender``."""
        bound = self._bound.get(sender)
        if bound is None or bound[0] != node_key:
            self._bound.put(sender, (node_key, now))
        else:
            self._bound.touch(sender)

    def identity(self, sender: str, now: float) -> str | None:
        """The beacon key (hex) ``sender`` has been bound to for ``identity_age_s``, else None."""
        bound = self._bound.get(sender)
        if bound is None or now - bound[1] < self._config.identity_age_s:
            return None
        return bound[0].hex()

    # -- promising answers ----------------------------------------------------------------

    def on_request(self, transfer: WorkTransfer, signed: SignedManifest, req: fr.Request, link: str,
                   requester: str, now: float, margin: float | None = None) -> bool:
        """Promise what ``requester`` (heard ``margin`` dB above the floor) asks for; False when its
        answer credit is spent."""
        assert transfer.work_id is not None
        if self.better_source(req, margin):
            job = transfer.serving.get(link)
            if job is not None:
                job.owed.pop(requester, None)
                self._drop_if_done(transfer, link)
            return True
        slot = self._links[link].slot_s
        jitter = self._rng.uniform(*self._config.serve_jitter_slots) * slot
        complete = self._store.is_complete(transfer.work_id)
        if not complete:
            jitter += self._config.serve_holdoff_slots * slot  # complete holders answer first
        identity = self.identity(requester, now)
        if req.target == fr.TARGET_MANIFEST:
            count = fr.ManifestPiece.piece_count(len(signed.raw))
            asked = list(range(count)) if req.wants_all else sorted({i for i in req.indices() if i < count})
            # the requester must afford every piece it asks for (at its repeat price): a manifest
            # cut off halfway is airtime nobody can use
            factor = self._manifest_use[link].factor(ManifestUse.account(requester, identity), now)
            head = fr.MAX_FRAME - fr.MANIFEST_PIECE_MAX
            cost = sum(self._links[link].frame_cost(head + min(fr.MANIFEST_PIECE_MAX,
                                                               len(signed.raw) - i * fr.MANIFEST_PIECE_MAX))
                       for i in asked)
            if not self._credits[link].allows(requester, identity, max(cost * factor, self._links[link].slot_s), now):
                return False
            self.promise_pieces(transfer, signed, link, asked, now + jitter, requester, identity)
            return True
        self._manifest_use[link].used(ManifestUse.account(requester, identity), transfer.short_id)
        have = self._store.have_chunks(transfer.work_id)
        count = signed.manifest.chunk_count
        mask = 0
        for i in range(count) if req.wants_all else req.indices():
            if i in have:
                mask |= 1 << i
        return self.promise_chunks(transfer, signed, link, requester, mask, mask.bit_count(), now + jitter,
                                   credit_checked=True, can_code=complete, seed=self._rng.getrandbits(16))

    def better_source(self, req: fr.Request, margin: float | None) -> bool:
        """True when the requester hears a recent source of the work much better than it hears us
        (our answer would reach it as poorly as its request reached us): that source answers."""
        if margin is None or req.source_margin == fr.MARGIN_UNKNOWN:
            return False
        return margin < req.source_margin - self._config.better_source_db

    def _job(self, transfer: WorkTransfer, signed: SignedManifest, link: str, not_before: float) -> ServeJob:
        job = transfer.serving.get(link)
        if job is None or not job:
            job = ServeJob(not_before, self._outboxes[link].next_seq(), len(signed.raw), signed.manifest.size,
                           signed.manifest.chunk_count)
            transfer.serving[link] = job
        return job

    def _drop_if_done(self, transfer: WorkTransfer, link: str) -> None:
        job = transfer.serving.get(link)
        if job is not None and not job:
            del transfer.serving[link]
            self._transfers.tidy(transfer)

    def promise_pieces(self, transfer: WorkTransfer, signed: SignedManifest, link: str, pieces: Iterable[int],
                       not_before: float, requester: str | None = None, identity: str | None = None) -> None:
        """Promise manifest pieces (charged to ``requester``); a job already waiting keeps its start time."""
        job = self._job(transfer, signed, link, not_before)
        job.pieces.update(pieces)
        if requester is not None and job.pieces:
            job.piece_requesters.pop(requester, None)
            job.piece_requesters[requester] = identity
            while len(job.piece_requesters) > MAX_REQUESTERS_PER_JOB:
                del job.piece_requesters[next(iter(job.piece_requesters))]
        self._drop_if_done(transfer, link)

    def promise_chunks(self, transfer: WorkTransfer, signed: SignedManifest, link: str, requester: str,
                       mask: int, need: int, not_before: float, *, credit_checked: bool = False,
                       can_code: bool = False, seed: int = 0) -> bool:
        """Owe ``requester`` the chunks in ``mask`` (``need`` frames); replaces its older entry.

        With ``credit_checked``, the requester's answer credit for the work is checked first:
        False (nothing owed) when it has had its share of passes over this work lately.
        """
        identity = self.identity(requester, not_before)
        if credit_checked and not self._credits[link].allows(requester, identity, self._links[link].slot_s,
                                                             not_before):
            job = transfer.serving.get(link)
            if job is not None:
                job.owed.pop(requester, None)
                self._drop_if_done(transfer, link)
            return False
        job = self._job(transfer, signed, link, not_before)
        if not job.owed:
            job.next_seed = seed
        job.can_code = can_code
        job.owe(requester, mask, need, identity)
        self._drop_if_done(transfer, link)
        return True

    # -- what others sent -----------------------------------------------------------------

    def heard(self, transfer: WorkTransfer, link: str, *, piece: int | None = None, chunks: int = 0,
              coded: bool = False, holdoff_until: float, charge_at: float | None = None) -> None:
        """Another node sent this piece, chunk or combination: do not repeat it; let that sender go on.

        With ``charge_at`` given, the requesters it served are charged as if we had sent it.
        """
        if chunks and charge_at is not None:
            job = transfer.serving.get(link)
            size = fr.MAX_FRAME if coded or job is None else job.chunk_size((chunks & -chunks).bit_length() - 1)
            self._charge(transfer, link, chunks, self._links[link].frame_cost(size), charge_at)
        job = transfer.serving.get(link)
        if job is None:
            return
        if piece is not None:
            owed = piece in job.pieces
            job.pieces.discard(piece)
            if owed and charge_at is not None:
                # holders in earshot share one budget per requester for manifests too, so a requester
                # cannot buy the whole manifest once from each holder that hears it
                self._charge_piece(transfer, link, self._links[link].frame_cost(job.piece_size(piece)), charge_at)
        if chunks:
            job.served(chunks, coded)
        if job:
            job.not_before = max(job.not_before, holdoff_until)
        self._drop_if_done(transfer, link)

    def _charge(self, transfer: WorkTransfer, link: str, mask: int, cost_s: float, now: float) -> None:
        job = transfer.serving.get(link)
        if job is None:
            return
        served = [(r, owed.identity) for r, owed in job.owed.items() if owed.mask & mask and r != REFUSED]
        for requester in self._credits[link].charge(served, cost_s, now, self._links[link].slot_s):
            del job.owed[requester]  # had its share: serve the others

    def _charge_piece(self, transfer: WorkTransfer, link: str, cost_s: float, now: float) -> None:
        job = transfer.serving.get(link)
        if job is None:
            return
        served = list(job.piece_requesters.items())
        use = self._manifest_use[link]
        accounts = [ManifestUse.account(r, i) for r, i in served]
        factors = [use.factor(a, now) for a in accounts]
        broke = self._credits[link].charge(served, cost_s, now, self._links[link].slot_s, factors)
        if not job.pieces:
            for account in accounts:
                use.sent(account, transfer.short_id, now)
        for requester in broke:
            del job.piece_requesters[requester]
        if not job.pieces or (broke and not job.piece_requesters):
            job.pieces.clear()  # nobody left who may still be served these pieces
            job.piece_requesters.clear()

    def _fair_band(self, job: ServeJob, link: str, now: float) -> int:
        """How much of its budget the least-served requester of ``job`` has used, in quanta."""
        owed = list(job.piece_requesters.items()) if job.pieces else \
            [(r, o.identity) for r, o in job.owed.items()]
        if not owed:
            return 0
        credits = self._credits[link]
        quantum = self._config.fair_quantum_share * self._config.answer_share * self._links[link].hourly_budget_s
        return int(min(credits.spent(r, i, now) for r, i in owed) // quantum)

    def advertised(self, link: str, neighbour: str, short_id: bytes, now: float) -> None:
        """``neighbour`` advertises a work we hold: a manifest we sent it was of use."""
        self._manifest_use[link].used(ManifestUse.account(neighbour, self.identity(neighbour, now)), short_id)

    def forget(self, short_id: bytes) -> None:
        """Nothing per work is kept here: budgets are per requester across all works."""

    # -- the next answer ------------------------------------------------------------------

    def candidate(self, transfer: WorkTransfer, link: str, now: float) -> Candidate | None:
        """The next frame of the work's serve job on ``link``, sized without reading the store."""
        job = transfer.serving.get(link)
        if not job:
            return None
        short = transfer.short_id
        rank = self._rank_of(short)
        fair = self._fair_band(job, link, now)
        if job.pieces:
            index = min(job.pieces)
            return Candidate(PRIO_MANIFEST, job.not_before, job.seq, job.piece_size(index), Source.PIECE,
                             short_id=short, index=index, rank=rank, fair=fair)
        if job.wants_coded():
            return Candidate(PRIO_DATA, job.not_before, job.seq, fr.MAX_FRAME, Source.CODED, short_id=short,
                             rank=rank, fair=fair)
        index = job.next_index()
        return Candidate(PRIO_DATA, job.not_before, job.seq, job.chunk_size(index), Source.CHUNK,
                         short_id=short, index=index, rank=rank, fair=fair)

    def render(self, transfer: WorkTransfer, link: str, cand: Candidate) -> Answer | None:
        """The bytes of ``cand``, or None when the store can no longer produce them."""
        work_id = transfer.work_id
        if work_id is None:
            return None
        match cand.source:
            case Source.PIECE:
                signed = self._store.get_manifest(work_id)
                piece = fr.manifest_piece(signed.raw, cand.short_id, cand.index) if signed is not None else None
                return Answer(fr.encode(piece)) if piece is not None else None
            case Source.CHUNK:
                chunk = self._store.get_chunk(work_id, cand.index)
                if chunk is None:
                    return None
                return Answer(fr.encode(fr.DataChunk(cand.short_id, cand.index, chunk)), mask=1 << cand.index)
            case Source.CODED:
                return self._render_coded(transfer, link)
        return None

    def _render_coded(self, transfer: WorkTransfer, link: str) -> Answer | None:
        """The XOR combination that reaches the most requesters still owed something."""
        job = transfer.serving.get(link)
        work_id = transfer.work_id
        if job is None or work_id is None or not self._store.is_complete(work_id):
            return None
        count = job.chunk_count
        best_seed, best_mask, best_score = -1, 0, -1
        for step in range(SEED_CANDIDATES):
            seed = (job.next_seed + step) & 0xFFFF
            mask = coded_indices(transfer.short_id, seed, count)
            score = sum(1 for owed in job.owed.values() if owed.mask & mask)
            if score > best_score:
                best_seed, best_mask, best_score = seed, mask, score
            if score == len(job.owed):
                break
        payload = 0
        for index in range(count):
            if best_mask >> index & 1:
                chunk = self._store.get_chunk(work_id, index)
                if chunk is None:
                    return None
                payload ^= chunk_int(chunk)
        return Answer(fr.encode(fr.CodedChunk(transfer.short_id, best_seed, int_chunk(payload))),
                      mask=best_mask, seed=best_seed)

    def sent(self, transfer: WorkTransfer, link: str, cand: Candidate, answer: Answer, now: float) -> None:
        """``answer`` went out on ``link``: charge the requesters it serves and update the job."""
        job = transfer.serving.get(link)
        if job is None:
            return
        cost = self._links[link].frame_cost(len(answer.data))
        match cand.source:
            case Source.CODED:
                self._charge(transfer, link, answer.mask, cost, now)
                job.served(answer.mask, coded=True)
                job.next_seed = (answer.seed + 1) & 0xFFFF
            case Source.CHUNK:
                self._charge(transfer, link, answer.mask, cost, now)
                job.served(answer.mask, coded=False)
                job.cursor = cand.index + 1
            case Source.PIECE:
                job.pieces.discard(cand.index)
                self._charge_piece(transfer, link, cost, now)
        self._drop_if_done(transfer, link)

    def unrenderable(self, transfer: WorkTransfer, link: str, cand: Candidate) -> None:
        """``cand`` cannot be produced any more: take it off the job."""
        job = transfer.serving.get(link)
        if job is None:
            return
        match cand.source:
            case Source.PIECE:
                job.pieces.discard(cand.index)
            case Source.CODED:
                job.owed.clear()
            case Source.CHUNK:
                job.served(1 << cand.index, coded=False)
                job.cursor = cand.index + 1
        self._drop_if_done(transfer, link)

    def requeue(self, transfer: WorkTransfer, signed: SignedManifest, link: str, frame: fr.Frame,
                now: float) -> None:
        """The radio refused an answer: owe it again."""
        match frame:
            case fr.DataChunk(index=index):
                self.promise_chunks(transfer, signed, link, REFUSED, 1 << index, 1, now)
            case fr.CodedChunk(seed=seed):
                mask = coded_indices(transfer.short_id, seed, signed.manifest.chunk_count)
                self.promise_chunks(transfer, signed, link, REFUSED, mask, 1, now, can_code=True, seed=seed)
            case fr.ManifestPiece(index=index):
                self.promise_pieces(transfer, signed, link, [index], now)
