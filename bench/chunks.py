#!/usr/bin/env python
"""Chunked renders against one whole render, same run: is cutting a video worth it here?

A long 1080p deck (`bench_deck`, 10 min by default) is rendered by `reel render` in a
fresh process tree: whole, then in 2 and 4 chunks (worker processes, joined without
re-encoding), interleaved over --runs. With --ray, the chunked runs are also made on a
2-node Ray cluster on 127.0.0.1 (one CPU each, token auth), started for the bench: the
driver fans the chunks out as Ray tasks (engine.jobs.ray_executor) and joins them. Each
run records the wall time, the peak RSS of the whole process tree (sampled every 50 ms:
the CLI and its workers together, or the Ray cluster's processes), and, for chunked
runs, the join's own time from the report.

    python bench/chunks.py                      # 10 min deck, 1 run each, results in bench/results/
    python bench/chunks.py --seconds 120 --runs 3 --chunks 1 2 4 --ray
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
from datetime import datetime, timezone
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.run import bench_deck  # after the path above


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of `process` and all its descendants now."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # gone between listing and reading
            pass
    return total


def render(deck: Path, out: Path, platform: str, chunks: int, compositor: str) -> dict:
    """One `reel render` of `deck`: wall seconds, peak tree RSS, the report."""
    report = out.with_suffix(".json")
    command = [sys.executable, "-m", "engine.cli", "render", str(deck), "-p", platform, "-o", str(out)]
    command += ["--compositor", compositor, "--report", str(report), "-q"]
    if chunks > 1:
        command += ["--chunks", str(chunks), "--jobs", str(chunks)]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=HERE.parent)
    watched, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        peak = max(peak, tree_rss(watched))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"reel render --chunks {chunks} failed with exit code {child.returncode}")
    written = json.loads(report.read_text())["outputs"][0]
    out.unlink()
    return {
        "chunks": chunks,
        "wall_seconds": round(wall, 2),
        "peak_tree_rss_mb": round(peak / 2**20, 1),
        "join_seconds": written["stage_seconds"].get("join"),
        "frames": written["frames"],
        "psnr_db": written["psnr_db"],
    }


def ray_render(deck: Path, out: Path, platform: str, chunks: int, compositor: str) -> dict:
    """`chunks` chunks of `deck` on a fresh 2-node loopback Ray cluster, timed in a child."""
    report = out.with_suffix(".json")
    command = [sys.executable, str(Path(__file__).resolve()), "ray-child", str(deck), str(out), platform]
    command += [str(chunks), compositor, str(report)]
    child = subprocess.Popen(command, cwd=HERE.parent)
    watched, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        peak = max(peak, tree_rss(watched))
        time.sleep(0.05)
    if child.returncode != 0:
        raise SystemExit(f"the Ray run with {chunks} chunks failed with exit code {child.returncode}")
    written = json.loads(report.read_text())
    out.unlink()
    return {
        "chunks": chunks,
        "ray": True,
        "wall_seconds": written["wall"],
        "cluster_start_seconds": written["cluster_start"],
        "peak_tree_rss_mb": round(peak / 2**20, 1),
        "join_seconds": written["stage_seconds"].get("join"),
        "frames": written["frames"],
        "psnr_db": written["psnr_db"],
    }


def ray_child(deck: str, out: str, platform: str, chunks: str, compositor: str, report: str) -> None:
    """The driver of one Ray run: a cluster on loopback, the chunked job, its report."""
    import secrets

    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    from ray.cluster_utils import Cluster

    from engine.jobs import OutputRequest, RenderJob
    from engine.jobs.chunked import render_chunked
    from engine.jobs.ray_executor import RayExecutor

    started = time.perf_counter()
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    try:
        with RayExecutor(address=cluster.address, node_ip_address="127.0.0.1") as executor:
            ready = time.perf_counter()
            job = RenderJob.for_deck(deck, [OutputRequest(platform, path=out)], compositor=compositor)
            result = render_chunked(executor, job, int(chunks))
            wall = time.perf_counter() - ready
    finally:
        cluster.shutdown()
    written = result.to_dict()
    written.update(wall=round(wall, 2), cluster_start=round(ready - started, 2))
    Path(report).write_text(json.dumps(written))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="deck length (default 600)")
    parser.add_argument("--chunks", type=int, nargs="+", default=[1, 2, 4], help="chunk counts (1 = whole)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--platform", default="youtube")
    parser.add_argument("--compositor", default="auto")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--ray", action="store_true", help="also the chunked runs on a 2-node loopback Ray cluster")
    args = parser.parse_args(argv)

    runs: dict[str, list[dict]] = {str(n): [] for n in args.chunks}
    if args.ray:
        runs.update({f"{n} on Ray": [] for n in args.chunks if n > 1})
    with tempfile.TemporaryDirectory(prefix="reel-bench-chunks-") as folder:
        deck = Path(folder) / "deck.json"
        deck.write_text(json.dumps(bench_deck(args.seconds)))
        for _ in range(args.runs):
            for count in args.chunks:  # interleaved, so drift in the machine's load hits all alike
                result = render(deck, Path(folder) / f"out-{count}.mp4", args.platform, count, args.compositor)
                print(json.dumps(result), flush=True)
                runs[str(count)].append(result)
                if args.ray and count > 1:
                    result = ray_render(deck, Path(folder) / f"ray-{count}.mp4", args.platform, count, args.compositor)
                    print(json.dumps(result), flush=True)
                    runs[f"{count} on Ray"].append(result)
    whole = statistics.median(r["wall_seconds"] for r in runs[str(args.chunks[0])])
    summary = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "seconds": args.seconds,
        "platform": args.platform,
        "results": [
            {
                "chunks": count,
                "wall_seconds": statistics.median(r["wall_seconds"] for r in rs),
                "speedup": round(whole / statistics.median(r["wall_seconds"] for r in rs), 3),
                "peak_tree_rss_mb": max(r["peak_tree_rss_mb"] for r in rs),
                "join_seconds": statistics.median(r["join_seconds"] or 0.0 for r in rs),
            }
            for count, rs in runs.items()
        ],
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"chunks-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(summary, indent=2))
    print("| chunks | wall s | speed-up | peak tree RSS MB | join s |\n|---:|---:|---:|---:|---:|")
    for row in summary["results"]:
        print(
            f"| {row['chunks']} | {row['wall_seconds']:.1f} | {row['speedup']:.2f}× "
            f"| {row['peak_tree_rss_mb']:.0f} | {row['join_seconds']:.2f} |"
        )
    print(f"written {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["ray-child"]:
        ray_child(*sys.argv[2:])
    else:
        main()
