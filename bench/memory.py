#!/usr/bin/env python
"""Peak memory of whole renders, each in a fresh process (its own VmHWM).

    python bench/memory.py                      # youtube_4k 60 s and 300 s, example deck at 1080p
    python bench/memory.py --only 4k --seconds 60
    python bench/memory.py --only example --platforms youtube,tiktok
    python bench/memory.py --compositor cpu

Renders the bench deck (bench/run.py `bench_deck`) for `youtube_4k` and the example
deck (examples/meal-plan.json: motion, charts, sound) for each 1080p platform. Each
render runs as ``python -m bench.memory child …``; beside its peak RSS (VmHWM, from
/proc/self/status) a thread samples the resident size every 10 ms with the frames done
so far, so the table says *where* the peak is: before the first frame is encoded
(start: rasterizing, the encoder opening), while frames go through, or after the last
(verify, audio, cover). "flat" compares the peak while frames go through in the second
half of the video with the first half. "Of it file-backed" is the shared libraries' pages
mapped at the sampled peak (RssFile): ~50 MB at 1080p, and ~20 MB more while the
libraries' files are freshly written (a venv just installed: measured, the same renders
at 360 against 341 MB until the page cache was dropped), so compare renders made alike.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "meal-plan.json"
#: Platforms whose frames are 1080 px on their short side and 1920 on the long one.
PLATFORMS_1080P = [
    "youtube",
    "facebook",
    "linkedin",
    "youtube_shorts",
    "tiktok",
    "instagram_reels",
    "instagram_stories",
]

__all__ = ["PLATFORMS_1080P", "measure", "render_child"]


def _rss_mb(field: str) -> float:
    return _status_mb(field)[field]


def _status_mb(*fields: str) -> dict[str, float]:
    """Fields of /proc/self/status, in MB (0 where missing)."""
    found = dict.fromkeys(fields, 0.0)
    for line in Path("/proc/self/status").read_text().splitlines():
        name = line.split(":", 1)[0]
        if name in found:
            found[name] = int(line.split()[1]) / 1024
    return found


def render_child(deck: str, out: str, platform: str, compositor: str) -> dict:
    """One render in this process, sampled: its report's figures and where its peak was."""
    import engine

    progress = {"done": 0, "total": 0}
    samples: list[tuple[float, int, float, float]] = []  # (seconds, frames done, RSS MB, of it file-backed)
    stop = threading.Event()
    started = time.perf_counter()

    def sample() -> None:
        while not stop.wait(0.01):
            status = _status_mb("VmRSS", "RssFile")
            samples.append((time.perf_counter() - started, progress["done"], status["VmRSS"], status["RssFile"]))

    def on_progress(p) -> None:
        progress["done"], progress["total"] = p.frames_done, p.frames_total

    source = deck if deck.endswith((".json", ".yaml", ".yml")) else json.loads(deck)
    before = _rss_mb("VmRSS")
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        report = engine.render(source, out, platform=platform, compositor=compositor, on_progress=on_progress)
    finally:
        stop.set()
        sampler.join()
    total = report.frames

    def peak(select) -> float:
        chosen = [rss for _, done, rss, _ in samples if select(done)]
        return round(max(chosen), 1) if chosen else 0.0

    # Shared libraries' pages count in RSS too, and how many of them a process maps
    # depends on the page cache (see the module's docstring).
    highest = max(samples, key=lambda sample: sample[2], default=(0, 0, 0.0, 0.0))

    return {
        "platform": platform,
        "size": f"{report.width}x{report.height}",
        "frames": total,
        "compositor": report.compositor,
        "encoder": report.encoder,
        "wall_seconds": round(report.wall_seconds, 2),
        "peak_mb": round(_rss_mb("VmHWM"), 1),
        "file_mb_at_peak": round(highest[3], 1),
        "imported_mb": round(before, 1),
        "start_mb": peak(lambda done: done == 0),
        "first_half_mb": peak(lambda done: 0 < done <= total // 2),
        "second_half_mb": peak(lambda done: total // 2 < done < total),
        "end_mb": peak(lambda done: done >= total),
    }


def _child(deck: str, out: Path, platform: str, compositor: str) -> dict:
    command = [sys.executable, "-m", "bench.memory", "child", deck, str(out), platform, compositor]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    out.unlink(missing_ok=True)
    if result.returncode != 0:
        raise SystemExit(f"render failed ({platform}):\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(which: str, seconds: list[float], platforms: list[str], compositor: str, work: Path) -> list[dict]:
    """Every render asked for, one fresh process each; one row per render."""
    sys.path.insert(0, str(ROOT))
    from bench.run import bench_deck

    rows = []
    if which in ("all", "4k"):
        for length in seconds:
            deck = json.dumps(bench_deck(length))
            row = _child(deck, work / f"4k-{length:g}.mp4", "youtube_4k", compositor)
            rows.append({"deck": f"bench {length:g} s", **row})
            print(_line(rows[-1]), file=sys.stderr)
    if which in ("all", "example"):
        for platform in platforms:
            row = _child(str(EXAMPLE), work / f"example-{platform}.mp4", platform, compositor)
            rows.append({"deck": "example", **row})
            print(_line(rows[-1]), file=sys.stderr)
    return rows


def _line(r: dict) -> str:
    return (
        f"| {r['deck']} | {r['platform']} | {r['size']} | {r['frames']} | {r['compositor']} | {r['peak_mb']:.0f} "
        f"| {r['file_mb_at_peak']:.0f} "
        f"| {r['imported_mb']:.0f} | {r['start_mb']:.0f} | {r['first_half_mb']:.0f} | {r['second_half_mb']:.0f} "
        f"| {r['end_mb']:.0f} | {r['wall_seconds']:.1f} |"
    )


def markdown(rows: list[dict]) -> str:
    lines = [
        "| deck | platform | size | frames | compositor | peak MB | of it file-backed | imported | start | 1st half | 2nd half | end | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_line(r) for r in rows),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if argv[:1] == ["child"]:
        deck, out, platform, compositor = argv[1:]
        print(json.dumps(render_child(deck, out, platform, compositor)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["all", "4k", "example"], default="all")
    parser.add_argument("--seconds", default="60,300", help="lengths of the 4K bench deck, comma-separated")
    parser.add_argument("--platforms", default=",".join(PLATFORMS_1080P))
    parser.add_argument("--compositor", default="auto", choices=["auto", "gl", "cpu"])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    work = args.out / "memory-work"
    work.mkdir(parents=True, exist_ok=True)
    seconds = [float(s) for s in args.seconds.split(",") if s]
    rows = measure(args.only, seconds, args.platforms.split(","), args.compositor, work)
    work.rmdir()
    text = markdown(rows)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"memory-{stamp}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / f"memory-{stamp}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
