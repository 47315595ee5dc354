"""Issue 17's attackers for the simulator: each needs only the public channel, no key.

* :class:`Collider` forges MANIFEST pieces of the works it overheard (right short ids and
  lengths, made-up bytes), so an assembly would take a forged piece before the genuine one;
* :class:`CodedJunk` sends random CODED frames naming the works it overheard;
* :class:`Echo` repeats the digest it last heard in empty adverts every 10 s (Trickle would count
  them as consistent and stay silent);
* :class:`DigestSpam` sends empty adverts with a fresh random digest twice a minute (Trickle
  would reset to Imin every time);
* :class:`Churn` sends beacons of throw-away identities and replays the beacons it overheard.

They are :class:`~simulator.agent.NodeAgent` s on the attacker node, so the world's EU868
ledger holds them to the legal 10 % duty cycle; the flooding ones transmit whenever it allows.
"""

from __future__ import annotations

import random
from collections import deque

from node.artwork.keys import SecretKey
from node.protocol import frames as fr
from node.protocol.events import RxInfo
from node.protocol.peers import sign_beacon


class _Flooding:
    """Transmits whenever the duty cycle allows; subclasses make the frame."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sent = 0

    def frame(self) -> bytes:
        """The next hostile frame."""
        raise NotImplementedError

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Ignores what it hears."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """A fresh hostile frame, always."""
        self.sent += 1
        return self.frame()

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """The ledger said no; the world blocks the radio until it says yes."""

    def get_timer(self) -> float | None:
        """Always due."""
        return 0.0

    def handle_timer(self, now: float) -> None:
        """Nothing to schedule."""


class Collider(_Flooding):
    """Forged manifest pieces of the works it has heard of: the (short id, manifest length) of
    every MANIFEST piece overheard, made-up bytes. Silent until it has heard one."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.manifests: dict[bytes, int] = {}

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Learn short ids and manifest lengths from the air."""
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        if isinstance(frame, fr.ManifestPiece):
            self.manifests[frame.short_id] = frame.total_len

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """A forged piece, once it knows a manifest."""
        return super().poll_frame(link, now) if self.manifests else None

    def get_timer(self) -> float | None:
        """Due once it has something to forge."""
        return 0.0 if self.manifests else None

    def frame(self) -> bytes:
        """A forged piece of a random manifest heard."""
        short = self.rng.choice(sorted(self.manifests))
        total = self.manifests[short]
        index = self.rng.randrange(fr.ManifestPiece.piece_count(total))
        size = min(fr.MANIFEST_PIECE_MAX, total - index * fr.MANIFEST_PIECE_MAX)
        return fr.encode(fr.ManifestPiece(short, index, total, self.rng.randbytes(size)))


class CodedJunk(_Flooding):
    """Random CODED frames naming the works it has heard of (from adverts, pieces and chunks)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.shorts: set[bytes] = set()

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Learn short ids from the air."""
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        match frame:
            case fr.Advert():
                self.shorts.update(e.short_id for e in frame.entries if e.state != fr.STATE_TAKEN_DOWN)
            case fr.ManifestPiece() | fr.DataChunk() | fr.CodedChunk():
                self.shorts.add(frame.short_id)

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """A junk coded frame, once it knows a work."""
        return super().poll_frame(link, now) if self.shorts else None

    def get_timer(self) -> float | None:
        """Due once it has something to name."""
        return 0.0 if self.shorts else None

    def frame(self) -> bytes:
        """A junk coded frame of a random work heard of."""
        return fr.encode(fr.CodedChunk(self.rng.choice(sorted(self.shorts)), self.rng.getrandbits(16),
                                       self.rng.randbytes(fr.DATA_MAX)))


class _Timed:
    """Sends one frame every ``interval_s``; subclasses make it."""

    def __init__(self, rng: random.Random, interval_s: float) -> None:
        self.rng = rng
        self.interval_s = interval_s
        self.next_at = rng.uniform(0, interval_s)
        self.sent = 0

    def frame(self) -> bytes | None:
        """The next frame, or None for nothing to say."""
        raise NotImplementedError

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Ignores what it hears."""

    def poll_frame(self, link: str, now: float) -> bytes | None:
        """The next frame when due."""
        if now < self.next_at:
            return None
        self.next_at = now + self.interval_s
        data = self.frame()
        self.sent += data is not None
        return data

    def send_refused(self, link: str, data: bytes, now: float) -> None:
        """Try again next interval."""

    def get_timer(self) -> float | None:
        """When the next frame is due."""
        return self.next_at

    def handle_timer(self, now: float) -> None:
        """Nothing beyond the schedule."""


class Echo(_Timed):
    """Repeats the last advert digest it heard, with no entries, every 10 s (inside the rate limit)."""

    def __init__(self, rng: random.Random, interval_s: float = 10.0) -> None:
        super().__init__(rng, interval_s)
        self.digests: deque[bytes] = deque(maxlen=8)

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Remember the digests of adverts heard."""
        try:
            frame = fr.decode(data)
        except fr.FrameError:
            return
        if isinstance(frame, fr.Advert):
            self.digests.append(frame.digest)

    def frame(self) -> bytes | None:
        """An empty advert with one of the digests heard lately."""
        if not self.digests:
            return None
        return fr.encode(fr.Advert(self.rng.choice(self.digests), 0, 1, ()))


class DigestSpam(_Timed):
    """Empty adverts with a fresh random digest, twice a minute."""

    def __init__(self, rng: random.Random, interval_s: float = 30.0) -> None:
        super().__init__(rng, interval_s)

    def frame(self) -> bytes | None:
        """A made-up digest."""
        return fr.encode(fr.Advert(self.rng.randbytes(fr.DIGEST_LEN), 0, 1, ()))


class Churn(_Flooding):
    """Beacons of throw-away identities, and replays of beacons overheard, at the legal maximum."""

    def __init__(self, rng: random.Random, seed: int) -> None:
        super().__init__(rng)
        self.seed = seed
        self.heard: deque[bytes] = deque(maxlen=256)

    def receive_frame(self, data: bytes, link: str, rx_info: RxInfo, now: float) -> None:
        """Keep the beacons heard, to replay them."""
        if data and data[0] & 0x0F == fr.KIND_STATUS:
            self.heard.append(data)

    def frame(self) -> bytes:
        """A replayed beacon every other time, else a new identity's."""
        if self.heard and self.sent % 2:
            return self.rng.choice(self.heard)
        key = SecretKey.from_seed_text(f"churn-{self.seed}-{self.sent}", "node")
        beacon = fr.StatusBeacon(key.public.raw, self.rng.getrandbits(32), 1, 0, 0, 0, None, None, "x", "churn")
        return fr.encode(sign_beacon(beacon, key))
