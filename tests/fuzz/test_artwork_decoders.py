"""Short fuzz pass over manifests, bundles, takedowns and endorsements (long run:
benchmarks/fuzz_artwork.py): byte mutations and structured CBOR field mutations."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.artwork import Endorsement, canonical
from node.artwork.errors import VerificationError
from tests.fuzz.corpus import fuzz_work, load
from tests.fuzz.mutate import Mutator
from tests.fuzz.targets import artwork_targets, bundle_with_manifest, run_target, structured_inputs

KINDS = {"manifest": "manifests", "bundle": "bundles", "takedown": "takedowns", "endorsement": "endorsements"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_corpus_entries_verify(name):
    target = artwork_targets()[name]
    assert {target(raw) for raw in load(KINDS[name])} == {f"ok:{name}"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_byte_mutations_are_valid_or_cleanly_rejected(name):
    corpus = load(KINDS[name])
    mutator = Mutator(random.Random(name), corpus, max(len(c) for c in corpus) + 64)
    report = run_target(name, artwork_targets()[name], mutator.stream(800))
    assert report.crash_count == 0, report.crashes[:1]
    assert report.rejected > 600
    assert report.outcomes["reject:malformed-cbor"] > 0


@pytest.mark.parametrize("name", ["manifest", "takedown", "endorsement"])
def test_structured_field_mutations_are_valid_or_cleanly_rejected(name):
    corpus = load(KINDS[name])
    report = run_target(name, artwork_targets()[name], structured_inputs(corpus, random.Random(name), 1500))
    assert report.crash_count == 0, report.crashes[:1]
    assert report.outcomes["reject:invalid-field"] > 0 and report.outcomes["reject:missing-field"] > 0


def test_structured_manifests_inside_bundles_are_cleanly_rejected():
    work = fuzz_work()
    rng = random.Random(9)
    inputs = (bundle_with_manifest(m, work.content) for m in structured_inputs(load("manifests"), rng, 600))
    report = run_target("bundle", artwork_targets()["bundle"], inputs)
    assert report.crash_count == 0, report.crashes[:1]


def test_endorsement_with_mixed_type_unknown_keys_is_rejected_not_crashed():
    """Regression (fuzz): unknown keys of different CBOR types (int and text) were sorted together."""
    doc = canonical.decode(load("endorsements")[0])
    raw = canonical.encode({**doc, 7: b"x", "extra": 1})
    with pytest.raises(VerificationError) as err:
        Endorsement.from_bytes(raw)
    assert err.value.reason == "invalid-field"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_as_any_artwork_object(data):
    for target in artwork_targets().values():
        assert target(data).startswith(("ok:", "reject:"))


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12) | st.integers() | st.binary(max_size=4), json_like, max_size=8))
def test_arbitrary_cbor_maps_as_any_artwork_object(doc):
    raw = canonical.encode(doc)
    for target in artwork_targets().values():
        assert target(raw).startswith(("ok:", "reject:"))
