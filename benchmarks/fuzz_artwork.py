"""Long fuzz run of the artwork decoders (issue 9: >= 100,000 each for bundles and manifests).

    .venv/bin/python benchmarks/fuzz_artwork.py [--count 100000] [--seed 1]

Per decoder two streams: byte mutations of the committed corpus, and structured mutations
(canonical CBOR with fields replaced, removed or added; for bundles, such manifests wrapped
with the genuine content). Prints counts, throughput and outcomes by rejection reason; exit
status 1 on any crash or an input slower than --max-ms.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.corpus import fuzz_work, load
from tests.fuzz.mutate import Mutator
from tests.fuzz.targets import (
    artwork_targets,
    bundle_with_manifest,
    format_report,
    run_target,
    structured_inputs,
)

KINDS = {"manifest": "manifests", "bundle": "bundles", "takedown": "takedowns", "endorsement": "endorsements"}


def main() -> int:
    """Run every artwork decoder on byte and structured mutations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per stream (two streams per decoder)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-ms", type=float, default=250.0)
    args = parser.parse_args()
    targets = artwork_targets()
    content = fuzz_work().content
    ok = True
    for name, kind in KINDS.items():
        corpus = load(kind)
        rng = random.Random(f"{name}-{args.seed}")
        byte_inputs = Mutator(rng, corpus, max(map(len, corpus)) + 64).stream(args.count)
        if name == "bundle":
            manifests = structured_inputs(load("manifests"), rng, args.count)
            structured = (bundle_with_manifest(m, content) for m in manifests)
        else:
            structured = structured_inputs(corpus, rng, args.count)
        for label, inputs in (("bytes", byte_inputs), ("structured", structured)):
            report = run_target(f"{name} ({label})", targets[name], inputs, trace_memory=True)
            print(format_report(report))
            clean = report.crash_count == 0 and report.slowest_s * 1000 <= args.max_ms
            print(f"  -> {'PASS' if clean else 'FAIL'}")
            ok &= clean
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
