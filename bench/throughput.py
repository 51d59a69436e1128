#!/usr/bin/env python
"""Videos per minute: `reel render` one deck after another against `reel batch` with N workers.

The same generated decks (--decks of them, each rendered for every --platforms entry)
go through two paths, in the same run:

- sequential, the baseline: one `reel render DECK -p A -p B -p C -j 1` process per deck,
  its outputs one after another;
- `reel batch DECKS... -j N`: one job per deck and platform through the queue and N
  spawned workers, for each N in --workers.

Each configuration runs in fresh processes with a fresh REEL_HOME (CACHE_SIZE_GB=0, so
nothing is a cache hit) and a fresh output folder. Wall time is the whole command's,
start-up included; peak RSS is the largest sum, over one ~50 ms poll, of the RSS of the
command's process and all its descendants (shared pages count once per process, so it
is an upper bound). A run counts only if every expected video is there, decodes with
frames, and nothing else was left in the output folder. Medians of --repeat runs.

    python bench/throughput.py                       # 12 decks × 3 platforms, draft, 1/2/4 workers
    python bench/throughput.py --decks 2 --workers 2 # a quick check
    python bench/throughput.py --quality standard --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.decks import decoded_frames, small_deck

REEL = [sys.executable, "-m", "engine.cli"]


def _tree_rss(process) -> int:
    """RSS of `process` and every descendant, in bytes (those that vanish mid-poll count 0)."""
    import psutil

    total = 0
    try:
        members = [process] + process.children(recursive=True)
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_tree(command: list[str], env: dict, poll: float) -> dict:
    """Run `command`; its wall seconds and the peak RSS of its process tree. Raises on failure."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    process = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(process))
        time.sleep(poll)
    stderr = child.stderr.read()
    child.stderr.close()
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} exited {child.returncode}:\n{stderr.strip()}")
    return {"wall_seconds": wall, "peak_rss_bytes": peak}


def expected_outputs(deck_files: list[Path], platforms: list[str], quality: str, out: Path) -> list[Path]:
    from engine import resolve_output

    return [out / f"{deck.stem}-{resolve_output(p, quality).label}.mp4" for deck in deck_files for p in platforms]


def check_outputs(out: Path, expected: list[Path]) -> list[str]:
    """What is wrong with the output folder: missing or undecodable videos, anything extra."""
    problems = []
    for path in expected:
        if not path.is_file():
            problems.append(f"missing {path.name}")
        elif decoded_frames(path) <= 0:
            problems.append(f"no frames decode from {path.name}")
    extra = sorted({p.name for p in out.iterdir()} - {p.name for p in expected}) if out.is_dir() else []
    problems += [f"left behind: {name}" for name in extra]
    return problems


def run_configuration(name: str, workers: int | None, deck_files: list[Path], args, work: Path) -> dict:
    """One run of one configuration in a fresh REEL_HOME and output folder."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    out = Path(tempfile.mkdtemp(prefix="out-", dir=work))
    env = {k: v for k, v in os.environ.items() if k != "REEL_CONFIG" and k != "QUALITY_PRESET"}
    env.update(REEL_HOME=str(home), CACHE_SIZE_GB="0")
    platform_flags = [flag for p in args.platforms for flag in ("-p", p)]
    common = [*platform_flags, "--quality", args.quality, "-o", str(out), "-q"]
    started, peak, problems = time.perf_counter(), 0, []
    cpu_before = _children_cpu()
    try:
        if workers is None:  # the baseline: one process per deck, its outputs one after another
            for deck in deck_files:
                measured = run_tree([*REEL, "render", str(deck), *common, "-j", "1"], env, args.poll)
                peak = max(peak, measured["peak_rss_bytes"])
        else:
            measured = run_tree([*REEL, "batch", *map(str, deck_files), *common, "-j", str(workers)], env, args.poll)
            peak = measured["peak_rss_bytes"]
    except RuntimeError as exc:
        problems.append(str(exc))
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    problems += check_outputs(out, expected_outputs(deck_files, args.platforms, args.quality, out))
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return {
        "configuration": name,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak / 2**20,
        "problems": problems,
    }


def _children_cpu() -> float:
    """User + system seconds of every finished child process (and theirs, once reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def summarise(runs: list[dict], videos: int) -> dict:
    good = [r for r in runs if not r["problems"]]
    if not good:
        return {"runs": len(runs), "runs_ok": 0, "problems": runs[-1]["problems"][:10]}
    wall = statistics.median(r["wall_seconds"] for r in good)
    return {
        "runs": len(runs),
        "runs_ok": len(good),
        "wall_seconds": wall,
        "wall_seconds_all": [round(r["wall_seconds"], 3) for r in good],
        "videos_per_minute": videos / wall * 60,
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in good),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in good),
    }


def markdown(results: dict) -> str:
    lines = [
        f"# Reel throughput, {results['date']}",
        "",
        f"Machine: {results['machine']}",
        "",
        (
            f"{results['decks']} decks × {len(results['platforms'])} platforms ({', '.join(results['platforms'])}) = "
            f"{results['videos']} videos per run, quality **{results['quality']}**, "
            f"{results['deck_seconds']:g} s per deck; CACHE_SIZE_GB=0, fresh REEL_HOME and output folder per run."
        ),
        "",
        "| configuration | wall s | videos / min | speed-up vs sequential | peak tree RSS MB | CPU s | runs ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results["configurations"].items():
        if not r.get("runs_ok"):
            lines.append(f"| {name} | failed | – | – | – | – | 0/{r['runs']} |")
            continue
        speedup = f"{r['speedup_vs_sequential']:.2f}×" if "speedup_vs_sequential" in r else "–"
        lines.append(
            f"| {name} | {r['wall_seconds']:.1f} | {r['videos_per_minute']:.1f} | {speedup} "
            f"| {r['peak_rss_mb']:.0f} | {r['cpu_seconds']:.1f} | {r['runs_ok']}/{r['runs']} |"
        )
    lines += [
        "",
        (
            f"Medians of {results['repeat']} run(s) per configuration, configurations interleaved. Wall time is the "
            "whole command's, interpreter start-up included (the sequential baseline starts one process per deck). "
            "Peak tree RSS sums every process of the command's tree at one ~50 ms poll (shared pages counted per "
            "process). CPU s is user + system time of the whole tree. "
            f"Load average (1 min) before / after the bench: {results['load_before']:.2f} / {results['load_after']:.2f} "
            "(other work on the machine shows here and in the wall times). A run counts only when every video is present, decodes with frames > 0, and nothing else "
            "was left in the output folder."
        ),
    ]
    failed = {n: r["problems"] for n, r in results["configurations"].items() if r.get("problems")}
    for name, problems in failed.items():
        lines += ["", f"{name} failed: " + "; ".join(problems)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decks", type=int, default=12, help="generated decks (default 12)")
    parser.add_argument(
        "--platforms",
        type=lambda s: s.split(","),
        default=["youtube", "tiktok", "instagram_feed"],
        help="comma-separated platforms per deck (default youtube,tiktok,instagram_feed)",
    )
    parser.add_argument("--quality", default="draft", help="quality preset (default draft, to keep the run short)")
    parser.add_argument("--seconds", type=float, default=7.0, help="length of each deck in seconds (default 7)")
    parser.add_argument(
        "--workers",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1, 2, 4],
        help="comma-separated worker counts for `reel batch -j N` (default 1,2,4)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per configuration; the median is reported (default 1)"
    )
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between RSS polls (default 0.05)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="results folder")
    args = parser.parse_args()

    import psutil

    args.out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="reel-throughput-") as temp:
        work = Path(temp)
        deck_dir = work / "decks"
        deck_dir.mkdir()
        deck_files = []
        for index in range(args.decks):
            path = deck_dir / f"deck{index + 1:02d}.json"
            path.write_text(json.dumps(small_deck(index, seconds=args.seconds), indent=1))
            deck_files.append(path)
        videos = args.decks * len(args.platforms)
        names = {None: "sequential (reel render -j 1)"} | {n: f"reel batch -j {n}" for n in args.workers}
        runs: dict[str, list[dict]] = {name: [] for name in names.values()}
        for repeat in range(args.repeat):
            for workers, name in names.items():
                result = run_configuration(name, workers, deck_files, args, work)
                runs[name].append(result)
                state = "ok" if not result["problems"] else f"FAILED ({'; '.join(result['problems'][:3])})"
                print(
                    f"  run {repeat + 1}/{args.repeat} {name}: {result['wall_seconds']:.1f} s, "
                    f"peak {result['peak_rss_mb']:.0f} MB, {state}",
                    file=sys.stderr,
                )

    configurations = {name: summarise(r, videos) for name, r in runs.items()}
    baseline = configurations[names[None]]
    for r in configurations.values():
        if r.get("runs_ok") and baseline.get("runs_ok"):
            r["speedup_vs_sequential"] = baseline["wall_seconds"] / r["wall_seconds"]
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
        "decks": args.decks,
        "platforms": args.platforms,
        "videos": videos,
        "quality": args.quality,
        "deck_seconds": args.seconds,
        "repeat": args.repeat,
        "bench_seconds": time.perf_counter() - began,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "configurations": configurations,
    }
    (args.out / "throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "throughput.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
