"""Lighthouse (mobile profile) against the demo's gallery: the works page and a work page.

Starts ``mesh-art demo`` (four real daemons on the simulated channel) in a subprocess, waits for
the first node's gallery, then runs npm Lighthouse 12.2.3 (``benchmarks/lighthouse``, installed
by scripts/setup.sh; 12.2.3 is the last release that runs on Node 20) with Debian's chromium,
and prints the Performance, Accessibility and Best Practices scores. Goal: each >= 95.

    .venv/bin/python benchmarks/lighthouse_gallery.py [--port 8471]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "benchmarks" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")
GOAL = 95


def wait_for(url: str, timeout: float = 60.0) -> str:
    """The body of ``url`` once it answers 200."""
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # the demo on loopback
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def audit(url: str, out: Path) -> dict[str, int]:
    """Lighthouse's category scores (0-100) for ``url``, mobile emulation and throttling."""
    command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
               f"--only-categories={','.join(CATEGORIES)}", "--form-factor=mobile",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, timeout=300)
    report = json.loads(out.read_text())
    return {name: round(100 * report["categories"][name]["score"]) for name in CATEGORIES}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8471, help="the demo's first gallery port")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        print(f"{LIGHTHOUSE} is missing: run scripts/setup.sh", file=sys.stderr)
        return 2
    demo = subprocess.Popen([sys.executable, "-m", "node", "demo", "--base-port", str(args.port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{args.port}"
        works = wait_for(base + "/?lang=en")
        found = re.search(r'href="(/works/[0-9a-f]{64})"', works)
        if found is None:
            print("the demo's first node shows no work", file=sys.stderr)
            return 1
        failed = False
        with tempfile.TemporaryDirectory() as tmp:
            for name, path in (("works page", "/?lang=en"), ("work page", found.group(1) + "?lang=en")):
                scores = audit(base + path, Path(tmp) / "report.json")
                failed |= any(score < GOAL for score in scores.values())
                print(f"{name:10} {path[:24]:24} " + "  ".join(f"{k} {v}" for k, v in scores.items()))
        print(f"goal: every score >= {GOAL}" + ("  -- NOT MET" if failed else "  -- met"))
        return 1 if failed else 0
    finally:
        demo.terminate()
        demo.wait(30)


if __name__ == "__main__":
    sys.exit(main())
