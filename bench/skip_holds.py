#!/usr/bin/env python
"""Holds without encoding (engine/encode/skip.py): engine time of the deck60-style deck
(60 s, 1080p30, six slides, 1 s fades) with holds encoded and with holds skipped, each
render in a fresh process, medians of --runs, and the files' sizes.

    python bench/skip_holds.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import engine
from bench.run import bench_deck
from engine.pipeline import render_output
deck = engine.load_deck(bench_deck({seconds}))
output = engine.resolve_output({platform!r})
started = time.perf_counter()
report = render_output(deck, output, Path({path!r}), encoder="libx264", skip_holds={skip})
print(json.dumps({{"seconds": time.perf_counter() - started, "encode": report.stage_seconds.get("encode"),
    "bytes": report.bytes, "holds": report.holds, "psnr": report.psnr_db, "rss": report.peak_rss_mb}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--platform", default="youtube")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"encoded": [], "skipped": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):  # interleaved, so drift in the machine hits both alike
            for name, skip in (("encoded", False), ("skipped", True)):
                code = _CHILD.format(
                    root=str(ROOT), seconds=args.seconds, platform=args.platform, path=f"{folder}/{name}.mp4", skip=skip
                )
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    summary = {
        name: {key: statistics.median(r[key] for r in runs) for key in ("seconds", "encode", "bytes", "rss")}
        | {"holds": runs[0]["holds"], "psnr": runs[0]["psnr"]}
        for name, runs in results.items()
    }
    summary["ratio_skipped_to_encoded"] = summary["skipped"]["seconds"] / summary["encoded"]["seconds"]
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
