#!/usr/bin/env python
"""Reel's benchmark: the engine end to end against the encoder alone, same run.

Renders a 60 s, 1080p30, 6-slide deck with 1 s fades through `engine.render` and
compares it with the floor: the *same* frames, composited beforehand, fed straight
into the same encoder settings. engine / encode-only is the headline: how much the
engine costs beyond the encode nobody can avoid. Each measurement runs in a fresh
process (so peak RSS is that render's own) and the median of --runs is reported.

    python bench/run.py                 # 3 runs each, results in bench/results/
    python bench/run.py --runs 5 --compositor cpu
    python bench/run.py --long          # also a 5 min deck: is memory flat with length?
    python bench/run.py --glsl tests/data/transitions/ShutterBlinds.glsl   # and a user-GLSL deck
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the children run as `python -m bench.child` from here

_SLIDES = [
    {"kind": "title", "title": "Seven days of easy meals", "subtitle": "A week planned in one minute"},
    {
        "kind": "bullets",
        "title": "Monday",
        "bullets": ["Oats with berries · 420 kcal", "Lentil soup · 610 kcal", "Salmon and greens · 720 kcal"],
    },
    {
        "kind": "text",
        "text": "Cooking at home four nights a week saves the average family two hours of decisions.",
        "style": "paragraph",
    },
    {
        "kind": "bullets",
        "title": "Tuesday",
        "bullets": ["Yoghurt bowl · 380 kcal", "Chicken wrap · 640 kcal", "Veggie curry · 690 kcal"],
    },
    {"kind": "text", "text": "12,950 kcal", "style": "big"},
    {"kind": "title", "title": "Plan once, eat well all week", "subtitle": "reel · meal-plan demo"},
]


def bench_deck(seconds: float, fade: float = 1.0, glsl: str | None = None) -> dict:
    """6 slides (repeated for longer decks) with `fade` s fades, exactly `seconds` long.

    With `glsl`, every transition is that gl-transitions file instead (GL's RGB path).
    """
    count = max(6, round(6 * seconds / 60))
    slides = [dict(_SLIDES[i % 6]) for i in range(count)]
    duration = (seconds + fade * (count - 1)) / count  # Σd − Σt = seconds
    for slide in slides:
        slide["duration"] = duration
    return {
        "title": "bench",
        "theme": {"background": {"gradient": {"from": "#1d2b53", "to": "#0b0f1a", "direction": "diagonal"}}},
        "defaults": {"transition": {"file": glsl, "duration": fade} if glsl else {"name": "fade", "duration": fade}},
        "slides": slides,
    }


def _child(what: str, *args: str) -> dict:
    """Run one measurement of `bench.child` in a fresh process; its JSON result."""
    command = [sys.executable, "-m", "bench.child", what, *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(
    seconds: float, runs: int, platform_name: str, compositor: str, work: Path, baseline: bool, glsl: str | None = None
) -> dict:
    deck = json.dumps(bench_deck(seconds, glsl=glsl))
    engine_runs, encode_runs = [], []
    for run in range(runs):
        out = work / f"engine-{seconds:g}s-{run}.mp4"
        engine_runs.append(_child("engine", deck, str(out), platform_name, compositor))
        out.unlink()
        if baseline:
            out = work / f"encode-{seconds:g}s-{run}.mp4"
            encode_runs.append(_child("encode-only", deck, str(out), platform_name))
            out.unlink()
        print(
            f"  {seconds:g} s run {run + 1}/{runs}: engine {engine_runs[-1]['wall_seconds']:.2f} s"
            + (f", encode-only {encode_runs[-1]['encode_seconds']:.2f} s" if baseline else ""),
            file=sys.stderr,
        )
    median = lambda values: statistics.median(values)
    first = engine_runs[0]
    result = {
        "video_seconds": first["duration"],
        "frames": first["frames"],
        "size": f"{first['width']}x{first['height']}@{first['fps']}",
        "compositor": first["compositor"],
        "renderer": first["renderer"],
        "encoder": first["encoder"],
        "engine_seconds": median([r["wall_seconds"] for r in engine_runs]),
        "engine_process_seconds": median([r["process_seconds"] for r in engine_runs]),
        "fps": median([r["fps_rendered"] for r in engine_runs]),
        "realtime_factor": median([r["realtime_factor"] for r in engine_runs]),
        "peak_rss_mb": median([r["peak_mb"] for r in engine_runs]),
        "stage_seconds": {
            k: median([r["stage_seconds"].get(k, 0.0) for r in engine_runs]) for k in first["stage_seconds"]
        },
        "bytes": median([r["bytes"] for r in engine_runs]),
        "runs": runs,
    }
    if baseline:
        result["encode_only_seconds"] = median([r["encode_seconds"] for r in encode_runs])
        result["ratio_engine_to_encode_only"] = result["engine_seconds"] / result["encode_only_seconds"]
    return result


def markdown(results: dict) -> str:
    lines = [
        f"# Reel benchmark, {results['date']}",
        "",
        f"Machine: {results['machine']}",
        "",
        "| deck | size | compositor | encoder | engine s | encode-only s | engine / encode-only | fps | × realtime | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results["decks"].items():
        ratio = f"{r['ratio_engine_to_encode_only']:.3f}" if "ratio_engine_to_encode_only" in r else "–"
        encode = f"{r['encode_only_seconds']:.2f}" if "encode_only_seconds" in r else "–"
        lines.append(
            f"| {name} | {r['size']} | {r['compositor']} ({r['renderer']}) | {r['encoder']} | {r['engine_seconds']:.2f} "
            f"| {encode} | {ratio} | {r['fps']:.1f} | {r['realtime_factor']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    if "rss_growth_5min_vs_60s" in results:
        lines += ["", f"Peak RSS, 5 min deck vs 60 s deck: {results['rss_growth_5min_vs_60s']:+.1%}"]
    lines += ["", f"Medians of {results['runs']} runs; each run in a fresh process."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--platform", default="youtube")
    parser.add_argument("--compositor", default="auto", choices=["auto", "gl", "cpu"])
    parser.add_argument("--long", action="store_true", help="also render a 5 min deck (memory flatness)")
    parser.add_argument(
        "--glsl", type=Path, help="also a 60 s deck whose transitions are this gl-transitions file (RGB path)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    work.mkdir(exist_ok=True)

    import psutil

    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "runs": args.runs,
        "decks": {},
    }
    print("60 s deck:", file=sys.stderr)
    results["decks"]["60s"] = measure(60, args.runs, args.platform, args.compositor, work, baseline=True)
    if args.glsl:
        print(f"60 s deck with {args.glsl.name}:", file=sys.stderr)
        glsl = str(args.glsl.resolve())
        results["decks"][f"60s-{args.glsl.stem}"] = measure(
            60, args.runs, args.platform, args.compositor, work, True, glsl
        )
    if args.long:
        print("5 min deck:", file=sys.stderr)
        results["decks"]["300s"] = measure(
            300, max(1, args.runs // 2), args.platform, args.compositor, work, baseline=False
        )
        results["rss_growth_5min_vs_60s"] = (
            results["decks"]["300s"]["peak_rss_mb"] / results["decks"]["60s"]["peak_rss_mb"] - 1
        )
    shutil.rmtree(work, ignore_errors=True)  # also what a killed earlier run left
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"bench-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"bench-{stamp}.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
