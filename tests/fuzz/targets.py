"""Fuzz targets: one callable per decoder that takes outside bytes, and a runner that counts.

A target takes one input and returns an *outcome* label: ``"ok:<what>"`` for a valid input,
``"reject:<reason>"`` for a clean rejection with the documented error class (``FrameError`` for
frames, a ``FrameDropped`` event for the engine, ``VerificationError`` for artwork). Anything
else that escapes is a crash; a broken invariant raises :class:`InvariantBroken`, also a crash.

:func:`run_target` feeds inputs, counts outcomes, keeps the first crashes with their input
number, and tracks the slowest input and the memory peak (tracemalloc, optional).
"""

from __future__ import annotations

import random
import time
import traceback
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from node.artwork import Endorsement, read_bundle, verify_manifest, verify_takedown
from node.artwork.errors import VerificationError
from node.protocol import EngineConfig, GossipEngine, LinkConfig, RxInfo
from node.protocol import frames as fr
from node.protocol.events import FrameDropped
from node.store.memory import MemoryStore
from tests import factories
from tests.fuzz.corpus import fuzz_work

Target = Callable[[bytes], str]
ENGINE_RESET_EVERY = 5000  # a fresh engine (a reboot) now and then, so early state is fuzzed too


class InvariantBroken(AssertionError):
    """A decoder accepted an input but the result breaks a stated property."""


def frame_target(data: bytes) -> str:
    """``frames.decode``: FrameError or a frame that re-encodes to the same bytes."""
    try:
        frame = fr.decode(data)
    except fr.FrameError as exc:
        return f"reject:{exc.reason}"
    if fr.encode(frame) != bytes(data):
        raise InvariantBroken(f"{type(frame).__name__} does not re-encode to its input")
    return f"ok:{type(frame).__name__}"


class EngineTarget:
    """A real engine holding half of :func:`fuzz_work`, fed one frame per call on a virtual clock.

    Every 16 inputs its timers run and its queues drain, so fuzzed requests and adverts make it
    answer; everything it sends must be a decodable frame of at most 231 bytes, and its store
    must only ever hold the one genuine work.
    """

    def __init__(self, seed: int = 0) -> None:
        self.bundle = fuzz_work()
        self.trust = factories.trust()
        self.seed = seed
        self.now = 0.0
        self.calls = 0
        self.sent = 0
        self.engine = self._fresh_engine()

    def _fresh_engine(self) -> GossipEngine:
        store = MemoryStore()
        store.put_manifest(self.bundle.signed)
        for index, chunk in enumerate(self.bundle.chunks()):
            if index % 2 == 0:
                store.put_chunk(self.bundle.work_id, index, chunk)
        config = EngineConfig(links=[LinkConfig("radio", preset="SHORT_FAST"), LinkConfig("mqtt", kind="ip")])
        rng = random.Random(f"fuzz-engine-{self.seed}-{self.calls}")
        return GossipEngine(factories.node_key("fuzz"), self.trust, store, rng, config, self.now)

    def __call__(self, data: bytes) -> str:
        self.calls += 1
        if self.calls % ENGINE_RESET_EVERY == 0:
            self.engine = self._fresh_engine()
        self.now += 0.37
        engine = self.engine
        link = "radio" if self.calls % 3 else "mqtt"
        engine.receive_frame(data, link, RxInfo(sender=f"!{self.calls % 97:08x}", snr=-3.0, rssi=-110.0), self.now)
        outcome = "ok:accepted"
        while (event := engine.next_event()) is not None:
            if isinstance(event, FrameDropped):
                outcome = f"reject:{event.reason}"
        if self.calls % 16 == 0:
            self._run_timers()
        return outcome

    def _run_timers(self) -> None:
        engine = self.engine
        timer = engine.get_timer()
        if timer is not None and timer <= self.now:
            engine.handle_timer(self.now)
        for _, frame in engine.frames_to_send(self.now):
            self.sent += 1
            if len(frame) > fr.MAX_FRAME:
                raise InvariantBroken(f"the engine sent a {len(frame)}-byte frame")
            fr.decode(frame)  # raises FrameError: the engine produced garbage
        while engine.next_event() is not None:
            pass
        held = set(engine.store.work_ids())
        if held - {self.bundle.work_id}:
            raise InvariantBroken("the engine stored a work nobody trusted signed")


def _verification(call: Callable[[bytes], object], label: str) -> Target:
    def target(data: bytes) -> str:
        try:
            call(data)
        except VerificationError as exc:
            return f"reject:{exc.reason}"
        return f"ok:{label}"

    return target


def artwork_targets() -> dict[str, Target]:
    """``manifest``, ``bundle``, ``takedown`` and ``endorsement`` targets against the test trust anchors."""
    trust = factories.trust()

    def endorsement(data: bytes) -> None:
        Endorsement.from_bytes(data).verify(trust)

    return {
        "manifest": _verification(lambda d: verify_manifest(d, trust), "manifest"),
        "bundle": _verification(lambda d: read_bundle(d, trust), "bundle"),
        "takedown": _verification(lambda d: verify_takedown(d, trust), "takedown"),
        "endorsement": _verification(endorsement, "endorsement"),
    }


@dataclass
class FuzzReport:
    """What one run of a target saw."""

    name: str
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: list[tuple[int, bytes, str]] = field(default_factory=list)
    crash_count: int = 0
    slowest_s: float = 0.0
    slowest_input: int = -1
    wall_s: float = 0.0
    memory_peak: int | None = None
    memory_samples: list[tuple[int, int]] = field(default_factory=list)  # (inputs so far, traced bytes)

    @property
    def valid(self) -> int:
        """Inputs the decoder accepted."""
        return sum(n for k, n in self.outcomes.items() if k.startswith("ok:"))

    @property
    def rejected(self) -> int:
        """Inputs cleanly rejected."""
        return sum(n for k, n in self.outcomes.items() if k.startswith("reject:"))


def run_target(name: str, target: Target, inputs: Iterable[bytes], *, keep_crashes: int = 20,
               trace_memory: bool = False, sample_every: int = 0) -> FuzzReport:
    """Feed ``inputs`` to ``target``; count outcomes and crashes (never stops at a crash)."""
    report = FuzzReport(name)
    if trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        for number, data in enumerate(inputs):
            t0 = time.perf_counter()
            try:
                outcome = target(data)
            except Exception:  # every escape is a finding: record it, keep fuzzing
                report.crash_count += 1
                outcome = "crash"
                if len(report.crashes) < keep_crashes:
                    report.crashes.append((number, data, traceback.format_exc()))
            elapsed = time.perf_counter() - t0
            if elapsed > report.slowest_s:
                report.slowest_s, report.slowest_input = elapsed, number
            report.outcomes[outcome] += 1
            report.inputs += 1
            if trace_memory and sample_every and report.inputs % sample_every == 0:
                report.memory_samples.append((report.inputs, tracemalloc.get_traced_memory()[0]))
    finally:
        report.wall_s = time.perf_counter() - started
        if trace_memory:
            report.memory_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    return report


def format_report(report: FuzzReport) -> str:
    """A multi-line summary: counts, throughput, outcomes by reason, crashes."""
    rate = report.inputs / report.wall_s if report.wall_s else 0.0
    lines = [
        f"{report.name}: {report.inputs} inputs in {report.wall_s:.1f} s ({rate:,.0f}/s); "
        f"valid {report.valid}, rejected {report.rejected}, crashes {report.crash_count}; "
        f"slowest input {report.slowest_s * 1000:.2f} ms (#{report.slowest_input})",
    ]
    if report.memory_peak is not None:
        lines.append(f"  tracemalloc peak {report.memory_peak / 1024:.0f} KiB")
    if report.memory_samples:
        samples = ", ".join(f"{n}:{b / 1024:.0f}" for n, b in report.memory_samples)
        lines.append(f"  traced KiB by inputs: {samples}")
    for outcome, count in sorted(report.outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:>9}  {outcome}")
    for number, data, trace in report.crashes[:3]:
        lines.append(f"  CRASH at input #{number}: {data[:64].hex()}...")
        lines.append("    " + trace.strip().splitlines()[-1])
    return "\n".join(lines)


def structured_inputs(corpus: list[bytes], rng: random.Random, count: int) -> Iterable[bytes]:
    """Canonical CBOR of corpus maps with fields replaced, removed or added (reaches the field checks)."""
    from node.artwork import canonical
    from tests.fuzz.mutate import mutate_map

    maps = [canonical.decode(raw) for raw in corpus]
    for _ in range(count):
        yield canonical.encode(mutate_map(rng.choice(maps), rng))


def bundle_with_manifest(manifest: bytes, content: bytes) -> bytes:
    """A bundle file around any manifest bytes (for structured bundle inputs)."""
    from node.artwork.bundle import MAGIC

    return MAGIC + len(manifest).to_bytes(4, "big") + manifest + content
