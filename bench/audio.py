#!/usr/bin/env python
"""CPU and wall seconds of the soundtrack's numpy stages, against an older revision.

Three measurements, each the median of --runs:

- ``meter``: `LoudnessMeter.add` on 60 s of seeded stereo noise in 1024-sample blocks
  (as mux_audio feeds it the decoded AAC frames), then its integrated LUFS and true peak;
- ``limiter``: `Limiter(-1.0)` on 60 s of seeded stereo noise at +4 dBFS peak
  (mostly under the ceiling, often over it), in the mix's 8192-sample blocks;
- ``mix``: `engine.audio.mix` of examples/meal-plan.json's plan (music, voiceover,
  loudness target: both passes, the limiter, the output meter), over the plan's duration.

"cpu" is the process's CPU time (every thread): where it exceeds "wall", a library
spun threads of its own (OpenBLAS's, unless OPENBLAS_NUM_THREADS=1).

    python bench/audio.py                  # this checkout
    python bench/audio.py --before HEAD~3  # and the engine at that revision, in a git worktree, same run

With --before the older engine runs in a child process from a temporary worktree (the
same deck file and assets), interleaved run by run with this checkout's, and the
table gives both and their ratio, plus what each measured (LUFS, dBTP), which should
agree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "examples" / "meal-plan.json"
RATE = 48_000


def _timed(work) -> tuple[float, float, object]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def measure_once(root: Path, deck: Path) -> dict[str, list]:
    """{name: [cpu s, wall s, what it measured]} for the engine under `root`."""
    sys.path.insert(0, str(root))
    import numpy as np

    from engine.audio import Limiter, LoudnessMeter, mix
    from engine.spec import load_deck

    rng = np.random.default_rng(1)
    noise = rng.standard_normal((2, 60 * RATE)) * 0.1

    def meter() -> tuple[float, float]:
        m = LoudnessMeter()
        for start in range(0, noise.shape[1], 1024):
            m.add(noise[:, start : start + 1024])
        return m.integrated_lufs, m.true_peak_db

    loud = (noise * (10 ** (4 / 20) / np.abs(noise).max())).astype(np.float32)

    def limiter() -> float:
        lim = Limiter(-1.0)
        outs = [lim.process(loud[:, start : start + 8192]) for start in range(0, loud.shape[1], 8192)]
        out = np.concatenate([*outs, lim.flush()], axis=1)
        return float(np.abs(out).max())

    plan = load_deck(str(deck)).audio_plan(30)

    def mixed() -> tuple[float, float]:
        m = LoudnessMeter()
        for block in mix(plan, plan.duration):
            m.add(block)
        return m.integrated_lufs, m.true_peak_db

    found = {}
    for name, work in (("meter", meter), ("limiter", limiter), ("mix", mixed)):
        cpu, wall, result = _timed(work)
        found[name] = [cpu, wall, result]
    return found


def _child(root: Path) -> dict[str, list]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(root), "--deck", str(DECK)],
        check=True, capture_output=True, text=True, cwd=root,
    )  # fmt: skip
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a git revision to compare with, run from a temporary worktree")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--deck", default=str(DECK), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_once(Path(args.child), Path(args.deck))))
        return

    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:
        roots = {"now": ROOT}
        if args.before:
            worktree = Path(scratch) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], check=True, cwd=ROOT)
            roots["before"] = worktree
        try:
            runs: dict[str, list[dict[str, list]]] = {label: [] for label in roots}
            for _ in range(args.runs):
                for label, root in roots.items():
                    runs[label].append(_child(root))
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(roots["before"])], check=True, cwd=ROOT)
    header = f"{'stage':8} {'version':7} {'cpu s':>7} {'wall s':>7}  measured"
    print(header)
    print("-" * len(header))
    for name in ("meter", "limiter", "mix"):
        medians = {}
        for label, results in runs.items():
            cpu = statistics.median(r[name][0] for r in results)
            wall = statistics.median(r[name][1] for r in results)
            medians[label] = cpu
            print(f"{name:8} {label:7} {cpu:7.3f} {wall:7.3f}  {results[-1][name][2]}")
        if "before" in medians:
            print(f"{name:8} now/before cpu: {medians['now'] / medians['before']:.2f}")


if __name__ == "__main__":
    main()
