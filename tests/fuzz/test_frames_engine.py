"""Short fuzz pass over the frame codec and the engine's receive path (the long run is
benchmarks/fuzz_frames.py): seeded mutations of the committed corpus, plus hypothesis."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from node.artwork import canonical
from node.protocol import frames as fr
from node.protocol.events import FrameDropped, RxInfo
from tests.fuzz.corpus import load
from tests.fuzz.mutate import Mutator
from tests.fuzz.targets import EngineTarget, frame_target, run_target


def test_corpus_frames_are_all_valid():
    frames = load("frames")
    kinds = {frame_target(f) for f in frames}
    assert kinds == {"ok:Advert", "ok:ManifestPiece", "ok:DataChunk", "ok:Request", "ok:TakedownFrame",
                     "ok:StatusBeacon"}


def test_mutated_frames_are_valid_or_cleanly_rejected():
    report = run_target("frames", frame_target, Mutator(random.Random(1), load("frames"), 240).stream(6000))
    assert report.crash_count == 0, report.crashes[:1]
    assert report.valid > 500 and report.rejected > 500
    reasons = {k for k in report.outcomes if k.startswith("reject:")}
    assert {"reject:malformed", "reject:truncated", "reject:oversize", "reject:unknown-version"} <= reasons


def test_mutated_frames_never_escape_the_engine_and_it_only_sends_valid_frames():
    target = EngineTarget(seed=3)
    report = run_target("engine", target, Mutator(random.Random(2), load("frames"), 240).stream(4000))
    assert report.crash_count == 0, report.crashes[:1]
    assert report.outcomes["ok:accepted"] > 50
    assert report.outcomes["reject:bad-chunk"] > 50  # mutated chunks of the held work reach the hash check
    assert target.sent > 0  # fuzzed requests and adverts made it answer, and every answer decoded


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_frame_error(data):
    assert frame_target(data).split(":")[0] in ("ok", "reject")


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=4, max_size=4),
       st.lists(st.integers(0, fr.REQUEST_BITMAP_MAX * 8 - 1), max_size=60, unique=True))
def test_requests_round_trip_their_indices(short, indices):
    request = fr.Request.for_indices(short, fr.TARGET_CHUNKS, indices)
    decoded = fr.decode(fr.encode(request))
    assert decoded == request and decoded.indices() == sorted(indices)


def _manifest_pieces(raw: bytes) -> list[bytes]:
    short = hashlib.sha256(raw).digest()[:4]
    step = fr.MANIFEST_PIECE_MAX
    return [fr.encode(fr.ManifestPiece(short, i, len(raw), raw[i * step:(i + 1) * step]))
            for i in range(fr.ManifestPiece.piece_count(len(raw)))]


def test_forged_manifest_with_mixed_type_endorsement_keys_is_dropped_not_raised():
    """Regression (fuzz, structured CBOR): an endorsement with extra integer and text keys made
    ``Endorsement.from_map`` sort mixed-type keys and raise TypeError out of receive_frame."""
    doc = canonical.decode(load("manifests")[0])
    doc["endorsement"] = {**doc["endorsement"], 1: "x", "zz": "y"}
    target = EngineTarget(seed=4)
    engine = target.engine
    for piece in _manifest_pieces(canonical.encode(doc)):
        engine.receive_frame(piece, "radio", RxInfo(sender="!0000beef"), 1.0)
    drops = [e.reason for e in iter(engine.next_event, None) if isinstance(e, FrameDropped)]
    assert drops == ["invalid-field"]
