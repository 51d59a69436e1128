#!/usr/bin/env python
"""Reel's benchmark: the engine end to end against the encoder alone, same run.

Two decks at 1080p30 (`--platform youtube`):

- ``deck60``: 60 s, six full-frame slides with 1 s fades (mostly holds);
- ``example``: examples/meal-plan.json (motion, charts, pushes and wipes, audio).

Each deck is rendered through `engine.render` and compared with its floor, encode-only:
the *same* frames the engine composited (kept by one untimed capture render), fed to
the same encoder with the same settings, every frame encoded. engine / encode-only is
the headline: how much the engine costs beyond the encode nobody could avoid. Every
measurement runs in a fresh process (so peak RSS is that render's own), the decks and
the kinds of measurement are interleaved, and medians of --runs are reported. A third
measurement, "its encode alone", feeds the same frames to the encoder as the engine
feeds them (a hold once: skipped where the encoder can) with nothing else running: the
engine's own floor. With the CPU seconds of each (all threads), the table says where
the rest of the engine's time goes, and what a machine's cores allow.
Goals (issue 14): deck60 ≤ 0.5× encode-only, the example deck ≤ 1.0×.

Up to 1080p the engine runs x264 without its lookahead thread, for ~21 MB less memory
(`EncodeSettings.lookahead_thread`); fed from one thread, x264 is then ~20 % slower.
So the floor is also timed with that thread ("threaded"): the ratio to it is the
engine against x264 at its fastest, not only under the engine's own settings. Where the
thread changes nothing (4K, other encoders) it is not timed again.

    python bench/run.py                 # 3 runs of both decks, results in bench/results/
    python bench/run.py --runs 5 --decks deck60 --compositor cpu
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
from dataclasses import dataclass
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
        raise SystemExit(f"benchmark child {what} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


EXAMPLE = ROOT / "examples" / "meal-plan.json"
#: Each deck's goal for engine / encode-only (issue 14); None: no goal, or no baseline.
GOALS = {"deck60": 0.5, "example": 1.0}


@dataclass(frozen=True)
class Bench:
    """One deck the bench renders: the DECK argument of `bench.child`, and whether its
    encode-only floor is measured too."""

    name: str
    deck: str  # inline JSON or a deck file
    baseline: bool = True


def benches(names: list[str], glsl: Path | None = None, long: bool = False) -> list[Bench]:
    """The decks asked for by name (deck60, example), then the optional ones."""
    known = {"deck60": Bench("deck60", json.dumps(bench_deck(60))), "example": Bench("example", str(EXAMPLE))}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown deck {', '.join(unknown)}: choose from {', '.join(known)}")
    chosen = [known[name] for name in names]
    if glsl is not None:
        chosen.append(Bench(f"deck60-{glsl.stem}", json.dumps(bench_deck(60, glsl=str(glsl.resolve())))))
    if long:
        chosen.append(Bench("deck300", json.dumps(bench_deck(300)), baseline=False))
    return chosen


def measure(
    chosen: list[Bench], runs: int, platform_name: str, compositor: str, work: Path, options: dict | None = None
) -> dict[str, dict]:
    """Every deck's engine and encode-only times, interleaved: run 1 of each deck, then run 2...

    `options` are further keyword arguments of `engine.render`, for the engine and capture renders.
    """
    extra = [json.dumps(options)] if options else []
    engine_runs: dict[str, list[dict]] = {b.name: [] for b in chosen}
    encode_runs: dict[str, list[dict]] = {b.name: [] for b in chosen}
    threaded_runs: dict[str, list[dict]] = {b.name: [] for b in chosen}
    as_engine_runs: dict[str, list[dict]] = {b.name: [] for b in chosen}
    captures: dict[str, dict] = {}
    for bench in chosen:
        if bench.baseline:
            print(f"{bench.name}: capturing the engine's frames (untimed)", file=sys.stderr)
            folder = work / f"capture-{bench.name}"
            captures[bench.name] = _child("capture", bench.deck, str(folder), platform_name, compositor, *extra)
    for run in range(runs):
        for bench in chosen:
            if not bench.baseline and run >= max(1, runs // 2):
                continue  # the long deck: fewer runs
            out = work / f"engine-{bench.name}-{run}.mp4"
            engine_runs[bench.name].append(_child("engine", bench.deck, str(out), platform_name, compositor, *extra))
            out.unlink()
            line = f"  {bench.name} run {run + 1}/{runs}: engine {engine_runs[bench.name][-1]['wall_seconds']:.2f} s"
            if bench.baseline:
                out = work / f"encode-{bench.name}-{run}.mp4"
                encode_runs[bench.name].append(_child("encode-only", str(work / f"capture-{bench.name}"), str(out)))
                out.unlink()
                line += f", encode-only {encode_runs[bench.name][-1]['encode_seconds']:.2f} s"
                if captures[bench.name]["lookahead_thread_differs"]:  # (else the same encode again)
                    out = work / f"threaded-{bench.name}-{run}.mp4"
                    threaded_runs[bench.name].append(
                        _child("encode-only-threaded", str(work / f"capture-{bench.name}"), str(out))
                    )
                    out.unlink()
                    line += f" ({threaded_runs[bench.name][-1]['encode_seconds']:.2f} s threaded)"
                out = work / f"as-engine-{bench.name}-{run}.mp4"
                as_engine_runs[bench.name].append(
                    _child("encode-as-engine", str(work / f"capture-{bench.name}"), str(out))
                )
                out.unlink()
                line += f", its encode alone {as_engine_runs[bench.name][-1]['encode_seconds']:.2f} s"
            print(line, file=sys.stderr)
    return {
        b.name: summarise(
            engine_runs[b.name],
            encode_runs[b.name],
            captures.get(b.name),
            GOALS.get(b.name),
            as_engine_runs[b.name],
            threaded_runs[b.name],
        )
        for b in chosen
    }


def summarise(
    engine_runs: list[dict],
    encode_runs: list[dict],
    capture: dict | None,
    goal: float | None,
    as_engine_runs: list[dict] | None = None,
    threaded_runs: list[dict] | None = None,
) -> dict:
    """Medians of one deck's runs, and its ratio to encode-only where that was measured.

    `as_engine_runs` time the engine's own encoding alone (`bench.child encode-as-engine`):
    engine time less that is what compositing, audio and the rest cost beyond it.
    `threaded_runs` time encode-only with x264's lookahead thread (`encode-only-threaded`).
    """
    median = statistics.median
    first = engine_runs[0]
    result = {
        "video_seconds": first["duration"],
        "frames": first["frames"],
        "size": f"{first['width']}x{first['height']}@{first['fps']}",
        "compositor": first["compositor"],
        "renderer": first["renderer"],
        "encoder": first["encoder"],
        "fallbacks": first.get("fallbacks", []),
        "composited_frames": first.get("composited_frames"),
        "engine_seconds": median([r["wall_seconds"] for r in engine_runs]),
        "engine_seconds_all": [r["wall_seconds"] for r in engine_runs],
        "engine_process_seconds": median([r["process_seconds"] for r in engine_runs]),
        "fps": median([r["fps_rendered"] for r in engine_runs]),
        "realtime_factor": median([r["realtime_factor"] for r in engine_runs]),
        "peak_rss_mb": median([r["peak_mb"] for r in engine_runs]),
        "peak_rss_mb_all": [r["peak_mb"] for r in engine_runs],
        "stage_seconds": {
            k: median([r["stage_seconds"].get(k, 0.0) for r in engine_runs]) for k in first["stage_seconds"]
        },
        "bytes": median([r["bytes"] for r in engine_runs]),
        "runs": len(engine_runs),
    }
    if encode_runs:
        result["encode_only_seconds"] = median([r["encode_seconds"] for r in encode_runs])
        result["encode_only_seconds_all"] = [r["encode_seconds"] for r in encode_runs]
        result["encode_only_bytes"] = median([r["bytes"] for r in encode_runs])
        result["encode_only_peak_rss_mb"] = median([r["peak_mb"] for r in encode_runs])
        result["ratio_engine_to_encode_only"] = result["engine_seconds"] / result["encode_only_seconds"]
        cpu = [r["cpu_seconds"] for r in encode_runs if "cpu_seconds" in r]
        if cpu:
            result["encode_only_cpu_seconds"] = median(cpu)
    if threaded_runs:
        result["encode_only_threaded_seconds"] = median([r["encode_seconds"] for r in threaded_runs])
        result["encode_only_threaded_seconds_all"] = [r["encode_seconds"] for r in threaded_runs]
        result["ratio_engine_to_encode_only_threaded"] = (
            result["engine_seconds"] / result["encode_only_threaded_seconds"]
        )
    engine_cpu = [r["cpu_seconds"] for r in engine_runs if "cpu_seconds" in r]
    if engine_cpu:
        result["engine_cpu_seconds"] = median(engine_cpu)  # the whole process, imports included
    if as_engine_runs:
        result["engine_encode_seconds"] = median([r["encode_seconds"] for r in as_engine_runs])
        result["engine_encode_cpu_seconds"] = median([r["cpu_seconds"] for r in as_engine_runs])
    if capture is not None:
        result["distinct_frames_captured"] = capture["distinct_frames"]
    if goal is not None and "ratio_engine_to_encode_only" in result:
        result["goal_ratio"] = goal
        result["goal_met"] = result["ratio_engine_to_encode_only"] <= goal
    return result


def markdown(results: dict) -> str:
    lines = [
        f"# Reel benchmark, {results['date']}",
        "",
        f"Machine: {results['machine']}",
        "",
        (
            "| deck | size | frames | compositor | encoder | engine s | encode-only s | engine / encode-only | goal "
            "| encode-only threaded s (engine / it) | its encode alone s | CPU s: engine / encode-only / its encode "
            "| fps | × realtime | peak RSS MB |"
        ),
        "|---|---|---:|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results["decks"].items():
        ratio = f"{r['ratio_engine_to_encode_only']:.2f}×" if "ratio_engine_to_encode_only" in r else "–"
        encode = f"{r['encode_only_seconds']:.2f}" if "encode_only_seconds" in r else "–"
        goal = f"≤ {r['goal_ratio']}× ({'met' if r['goal_met'] else 'not met'})" if "goal_ratio" in r else "–"
        alone = f"{r['engine_encode_seconds']:.2f}" if "engine_encode_seconds" in r else "–"
        threaded = (
            f"{r['encode_only_threaded_seconds']:.2f} ({r['ratio_engine_to_encode_only_threaded']:.2f}×)"
            if "encode_only_threaded_seconds" in r
            else "–"
        )
        cpu = " / ".join(
            f"{r[key]:.1f}" if key in r else "–"
            for key in ("engine_cpu_seconds", "encode_only_cpu_seconds", "engine_encode_cpu_seconds")
        )
        lines.append(
            f"| {name} | {r['size']} | {r['frames']} | {r['compositor']} ({r['renderer']}) | {r['encoder']} "
            f"| {r['engine_seconds']:.2f} | {encode} | {ratio} | {goal} | {threaded} | {alone} | {cpu} | {r['fps']:.1f} "
            f"| {r['realtime_factor']:.2f} | {r['peak_rss_mb']:.0f} |"
        )
    if results.get("render_options"):
        lines += ["", f"engine.render options: {json.dumps(results['render_options'])}"]
    if "rss_growth_5min_vs_60s" in results:
        lines += ["", f"Peak RSS, 5 min deck vs 60 s deck: {results['rss_growth_5min_vs_60s']:+.1%}"]
    lines += [
        "",
        (
            f"Medians of {results['runs']} runs, interleaved; each render in a fresh process (peak RSS is its "
            "VmHWM). Encode-only: the engine's own frames, every frame encoded by the same encoder and settings; "
            "threaded: the same with x264's lookahead thread, which the engine leaves out to hold ~21 MB less. "
            "Its encode alone: the same frames handed over as the engine hands them (a hold once), no compositing. "
            "CPU s: process CPU time of all threads (the engine's whole process; the encoders' encoding)."
        ),
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement; medians reported (default 3)")
    parser.add_argument("--decks", default="deck60,example", help="comma-separated: deck60, example (default both)")
    parser.add_argument("--platform", default="youtube")
    parser.add_argument("--compositor", default="auto", choices=["auto", "gl", "cpu"])
    parser.add_argument("--long", action="store_true", help="also render a 5 min deck (memory flatness)")
    parser.add_argument(
        "--glsl", type=Path, help="also a 60 s deck whose transitions are this gl-transitions file (RGB path)"
    )
    parser.add_argument(
        "--render-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further keyword argument of engine.render, VALUE as JSON (e.g. skip_holds=true); repeatable",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    options = {}
    for item in args.render_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--render-option {item!r}: write KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value  # a plain string
    args.render_options = options
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.decks = [name.strip() for name in args.decks.split(",") if name.strip()]
    return args


def _source() -> dict:
    """The commit measured, and the engine files that differed from it (uncommitted edits)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD"), "engine_changed": git("status", "--porcelain", "engine").splitlines()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    chosen = benches(args.decks, args.glsl, args.long)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "work"
    shutil.rmtree(work, ignore_errors=True)  # what a killed earlier run left
    work.mkdir()

    import psutil

    started = time.perf_counter()
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
        "runs": args.runs,
        "platform": args.platform,
        "render_options": args.render_options,
        "source": _source(),
        "decks": {},
    }
    try:
        results["decks"] = measure(chosen, args.runs, args.platform, args.compositor, work, args.render_options)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if "deck300" in results["decks"] and "deck60" in results["decks"]:
        results["rss_growth_5min_vs_60s"] = (
            results["decks"]["deck300"]["peak_rss_mb"] / results["decks"]["deck60"]["peak_rss_mb"] - 1
        )
    results["bench_seconds"] = time.perf_counter() - started
    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    (args.out / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{stamp}.md").write_text(markdown(results))
    print(markdown(results))
    print(f"bench took {results['bench_seconds']:.0f} s; results in {args.out / stamp}.json", file=sys.stderr)


if __name__ == "__main__":
    main()
