"""Long fuzz run of the frame decoder and the engine's receive path (issue 9: >= 1,000,000 each).

    .venv/bin/python benchmarks/fuzz_frames.py [--count 1000000] [--seed 1]
    .venv/bin/python benchmarks/fuzz_frames.py --atheris -runs=200000   # coverage-guided

Seeded mutations of tests/fuzz/corpus/frames (bit flips, boundary integers, insertions,
deletions, splices); prints counts, throughput, outcomes by rejection reason, the slowest input
and the memory trace. Exit status 1 on any crash, an input slower than --max-ms, or traced
memory growing more than --max-growth-kib between the first and last quarter of the run.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.corpus import load
from tests.fuzz.mutate import Mutator
from tests.fuzz.targets import EngineTarget, FuzzReport, format_report, frame_target, run_target


def verdict(report: FuzzReport, max_ms: float, max_growth_kib: float) -> bool:
    """Print and return whether the run is clean: no crash, no hang, flat memory."""
    ok = report.crash_count == 0 and report.slowest_s * 1000 <= max_ms
    growth = 0.0
    if len(report.memory_samples) >= 4:
        quarter = len(report.memory_samples) // 4
        early = max(b for _, b in report.memory_samples[:quarter])
        late = max(b for _, b in report.memory_samples[-quarter:])
        growth = (late - early) / 1024
        ok &= growth <= max_growth_kib
    print(f"  -> {'PASS' if ok else 'FAIL'}: crashes {report.crash_count}, slowest {report.slowest_s * 1000:.2f} ms "
          f"(bound {max_ms:g}), traced-memory growth {growth:+.0f} KiB (bound {max_growth_kib:g})")
    return ok


def run_atheris(argv: list[str]) -> None:
    """Coverage-guided: atheris mutates, the same engine target checks (a crash stops the run)."""
    import atheris

    engine = EngineTarget(seed=99)

    def one(data: bytes) -> None:
        frame_target(data)
        engine(data)

    corpus_dir = Path(__file__).resolve().parents[1] / "tests" / "fuzz" / "corpus" / "frames"
    atheris.Setup([sys.argv[0], *argv, str(corpus_dir)], one)
    atheris.Fuzz()


def main() -> int:
    """Run both targets and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-ms", type=float, default=100.0, help="per-input time bound (a hang)")
    parser.add_argument("--max-growth-kib", type=float, default=2048.0)
    parser.add_argument("--atheris", action="store_true", help="coverage-guided run (libFuzzer flags follow)")
    args, rest = parser.parse_known_args()
    if args.atheris:
        run_atheris(rest)
        return 0
    corpus = load("frames")
    sample = max(1, args.count // 40)
    ok = True
    for name, target in (("frame decoder", frame_target), ("engine.receive_frame", EngineTarget(seed=args.seed))):
        inputs = Mutator(random.Random(f"{name}-{args.seed}"), corpus, 240).stream(args.count)
        report = run_target(name, target, inputs, trace_memory=True, sample_every=sample)
        print(format_report(report))
        ok &= verdict(report, args.max_ms, args.max_growth_kib)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
