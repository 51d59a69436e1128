#!/usr/bin/env python
"""Per-frame cost of every built-in transition, on each compositor, against a plain fade.

A frame is `render` + `read_nv12` of one transition frame at 1920×1080 (what the
pipeline pays per transition frame). Each built-in is warmed up once (the GL shader
compiles on first use), then timed over --frames frames at progress spread over 0..1;
the median is reported with its ratio to `fade` on the same compositor. Frames go
round-robin over the transitions, so drift in the machine's speed is shared fairly. The goal: no
built-in costs more than twice a fade on llvmpipe (--limit).

    python bench/transitions.py                      # gl and cpu, 1920×1080, 15 frames
    python bench/transitions.py --compositors cpu --frames 31 --size 1280x720

Prints a markdown table; the exit status is 1 when a GL built-in is over the limit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.colour import nv12_size
from engine.composite import FrameSpec, open_compositor
from engine.errors import BackendUnavailableError
from engine.transitions import BUILTIN


def slides(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Two slide-like images: smooth gradients with hard-edged blocks, and some noise."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    images = []
    for k in range(2):
        image = np.empty((height, width, 3), dtype=np.float32)
        image[..., 0] = 40 + 150 * x / width
        image[..., 1] = 30 + 120 * y / height
        image[..., 2] = 90 + 80 * k
        for _ in range(12):  # "text" blocks
            x0, y0 = rng.integers(0, width - width // 4), rng.integers(0, height - height // 8)
            image[y0 : y0 + height // 24, x0 : x0 + width // 4] = rng.integers(0, 256, 3)
        image += rng.normal(0, 4, image.shape)
        images.append(np.clip(image, 0, 255).astype(np.uint8))
    return images[0], images[1]


def time_transitions(compositor, a, b, names: list[str], frames: int, into: np.ndarray) -> dict[str, float]:
    """Median seconds of render + read_nv12 per transition, over `frames` frames each.

    Frames go round-robin over the transitions (frame k of every transition, then
    k + 1), so a slow drift of the machine (clocks, caches, a neighbour) touches every
    transition alike instead of whichever happened to run during it.
    """
    for name in names:  # warm-up: compiles each shader on GL, fills caches
        compositor.render(FrameSpec(a, b, name, 0.5))
        compositor.read_nv12(into)
    times: dict[str, list[float]] = {name: [] for name in names}
    for k in range(frames):
        progress = (k + 1) / (frames + 1)
        for name in names:
            started = time.perf_counter()
            compositor.render(FrameSpec(a, b, name, progress))
            compositor.read_nv12(into)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(samples) for name, samples in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--frames", type=int, default=15, help="timed frames per transition (default 15)")
    parser.add_argument("--compositors", default="gl,cpu", help="comma-separated (default gl,cpu)")
    parser.add_argument("--only", default="", help="comma-separated transitions (default: all; fade is always timed)")
    parser.add_argument(
        "--limit", type=float, default=2.0, help="slowest GL built-in / fade must stay under this (default 2)"
    )
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    names = [n for n in args.only.split(",") if n] or list(BUILTIN)
    names = ["fade"] + [n for n in names if n != "fade"]
    image_a, image_b = slides(width, height)
    into = np.empty(nv12_size(width, height), dtype=np.uint8)

    results: dict[str, dict[str, float]] = {}
    renderers: dict[str, str] = {}
    for kind in args.compositors.split(","):
        try:
            compositor = open_compositor(kind, width, height)
        except BackendUnavailableError as exc:
            print(f"{kind}: unavailable ({exc})", file=sys.stderr)
            continue
        try:
            renderers[kind] = f"{compositor.kind}, {compositor.renderer}"
            a, b = compositor.upload("a", image_a), compositor.upload("b", image_b)
            results[kind] = time_transitions(compositor, a, b, names, args.frames, into)
        finally:
            compositor.close()

    kinds = list(results)
    print(f"Per-frame composite (render + read_nv12) at {width}×{height}, median of {args.frames} frames")
    for kind in kinds:
        print(f"- {kind}: {renderers[kind]}")
    print()
    print("| transition | " + " | ".join(f"{kind} ms | {kind} × fade" for kind in kinds) + " |")
    print("|---|" + "---:|---:|" * len(kinds))
    for name in names:
        cells = []
        for kind in kinds:
            ms, fade = results[kind][name] * 1000, results[kind]["fade"] * 1000
            cells += [f"{ms:.1f}", f"{ms / fade:.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")

    status = 0
    if "gl" in results:
        gl = results["gl"]
        slowest = max(gl, key=gl.get)
        ratio = gl[slowest] / gl["fade"]
        verdict = "ok" if ratio < args.limit else "OVER THE LIMIT"
        print(f"\nslowest on gl: {slowest}, {ratio:.2f}× fade (limit {args.limit:g}×): {verdict}")
        status = 0 if ratio < args.limit else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
