#!/usr/bin/env python
"""Per-frame cost of motion inside a slide, on each compositor, against a plain fade.

A frame is `render` + `read_nv12` of one frame of a slide in motion at 1920×1080:
Ken Burns on an opaque photo (the camera inside the picture's frame) and on a
transparent picture (the whole scene moves), background drift under text, and a
bullet build. Each is timed over --frames frames spread over its motion, round-robin
with a fade between two still slides on the same compositor, and reported as medians.

    python bench/motion.py                         # gl and cpu, 1920×1080, 15 frames
    python bench/motion.py --compositors cpu --size 1280x720
    python bench/motion.py --compositors cpu --before 8496ccf --threads 1,2

With --before REV the numpy compositor also runs the numpy twin of motion.frag as it
was at REV (engine/composite/layers.py and resample.py read with git), frame by frame in the same run,
checks the two draw the same bytes (within one code value), and reports both with their ratio; --threads times
the current twin with each number of threads. "cpu ms" is wall time, "cpu cpu-ms" the
process's CPU time per frame (all threads), which a loaded machine disturbs less.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine.composite.cpu as cpu_compositor
from engine.colour import nv12_size
from engine.composite import FrameSpec, open_compositor
from engine.composite.layers import LayerWork
from engine.errors import BackendUnavailableError
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck

PLATE = Path(__file__).resolve().parent.parent / "examples" / "assets" / "plate.png"


def deck(folder: Path):
    """One slide per motion, plus two still slides for the fade baseline."""
    photo = folder / "photo.jpg"
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((1600, 900), Image.Resampling.BICUBIC).save(photo, quality=90)
    bullets = [
        "Breakfast — overnight oats · 420 kcal",
        "Lunch — chickpea salad · 560 kcal",
        "Snack — yoghurt and honey · 180 kcal",
        "Dinner — salmon and greens · 690 kcal",
    ]
    return load_deck(
        {
            "theme": {"background": {"gradient": {"from": "#1b2a41", "to": "#0f6b5c", "direction": "diagonal"}}},
            "slides": [
                {"kind": "title", "title": "Still A"},
                {"kind": "title", "title": "Still B"},
                {
                    "kind": "image",
                    "file": str(photo),
                    "caption": "Ken Burns, photo",
                    "motion": {"ken_burns": {"zoom": [1.0, 1.2], "pan": "right"}},
                },
                {
                    "kind": "image",
                    "file": str(PLATE),
                    "fit": "contain",
                    "caption": "Ken Burns, scene",
                    "motion": {"ken_burns": {"zoom": [1.0, 1.2]}},
                },
                {"kind": "bullets", "title": "Drift", "bullets": bullets, "motion": {"drift": True}},
                {"kind": "bullets", "title": "Build", "bullets": bullets, "motion": {"build": True}},
            ],
        }
    )


CASES = {2: "kenburns-photo", 3: "kenburns-scene", 4: "drift", 5: "build"}
ROOT = Path(__file__).resolve().parent.parent


def layers_at(revision: str):
    """engine/composite/layers.py as it was at `revision`, imported beside today's.

    Where `revision` has engine/composite/resample.py, that module too is read as it was
    then (as ``resample_before``), so the twin before is the whole of it.
    """
    folder = Path(tempfile.mkdtemp())

    def load(name: str, source: str):
        path = folder / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"engine.composite.{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        module.__package__ = "engine.composite"
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module

    source = git_show(revision, "engine/composite/layers.py")
    resample = git_show(revision, "engine/composite/resample.py", missing_ok=True)
    if resample is not None:
        load("resample_before", resample)
        source = source.replace("from .resample import", "from .resample_before import")
    return load("layers_before", source)


def git_show(revision: str, path: str, missing_ok: bool = False) -> str | None:
    command = ["git", "-C", str(ROOT), "show", f"{revision}:{path}"]
    shown = subprocess.run(command, check=False, capture_output=True, text=True)
    if shown.returncode != 0 and missing_ok:
        return None
    shown.check_returncode()
    return shown.stdout


def time_variants(the_deck, output, frames: int, into: np.ndarray, variants: dict) -> dict[str, dict[str, tuple]]:
    """Per case and variant (name → (compose_plane, LayerWork factory)): (wall, CPU) medians.

    Variants draw each frame in turn (each frame another one first) on one CPU compositor;
    their bytes must agree within
    one code value (a revision before the fixed-point bilinear rounds differently), and
    the largest difference seen is returned under "max difference".
    """
    compositor = cpu_compositor.CPUCompositor(output.width, output.height)
    rasterizer = SlideRasterizer(the_deck, output)
    times: dict[str, dict[str, list]] = {name: {v: [] for v in variants} for name in CASES.values()}
    works = {}
    largest = 0
    try:
        for index, name in CASES.items():
            layers = rasterizer.layers(index)
            handle = compositor.upload_layers(f"moving-{index}", layers)
            motion = the_deck.motion(index)
            for k in range(-1, frames):
                fraction = (k + 1) / (frames + 1)
                t = motion.windows[0][0] + fraction * (motion.windows[0][1] - motion.windows[0][0])
                spec = FrameSpec(handle, source_state=motion.state(t, layers.count, output.width, output.height))
                first = None
                order = list(variants)  # each frame in turn first: whoever draws first pays for cold caches
                order = order[k % len(order) :] + order[: k % len(order)]
                for variant in order:
                    compose, make_work = variants[variant]
                    if variant not in works:
                        works[variant] = make_work(output.width)
                    cpu_compositor.compose_plane = compose
                    compositor._layer_work = works[variant]
                    compositor._drawn.clear()  # each variant draws the frame, none reuses the last one's
                    wall, used = time.perf_counter(), time.process_time()
                    compositor.render(spec)
                    compositor.read_nv12(into)
                    wall, used = time.perf_counter() - wall, time.process_time() - used
                    if first is None:
                        first = into.copy()
                    else:
                        difference = int(np.abs(first.astype(np.int16) - into).max())
                        largest = max(largest, difference)
                        if difference > 1:
                            raise SystemExit(f"{name}: {variant} draws bytes {difference} codes from {order[0]}")
                    if k >= 0:
                        times[name][variant].append((wall, used))
    finally:
        cpu_compositor.compose_plane = CURRENT
        compositor._layer_work = None
        for work in works.values():
            if hasattr(work, "close"):
                work.close()
        compositor.close()
    medians: dict = {
        name: {v: tuple(statistics.median(s[i] for s in samples) for i in (0, 1)) for v, samples in by.items()}
        for name, by in times.items()
    }
    medians["max difference"] = largest
    return medians


CURRENT = cpu_compositor.compose_plane


def compare(args, output, into) -> None:
    variants = {}
    counts = [int(n) for n in args.threads.split(",")]
    if args.before:  # with the first thread count, where the revision has threads
        before = layers_at(args.before)
        threaded = "threads" in inspect.signature(before.LayerWork).parameters
        made = partial(before.LayerWork, threads=counts[0]) if threaded else before.LayerWork
        variants[f"before ({args.before}{f', {counts[0]}' * threaded})"] = (before.compose_plane, made)
    for threads in counts:
        variants[f"now, {threads} thread{'s' * (threads > 1)}"] = (
            CURRENT,
            lambda width, threads=threads: LayerWork(width, threads=threads),
        )
    with tempfile.TemporaryDirectory() as folder:
        results = time_variants(deck(Path(folder)), output, args.frames, into, variants)
    largest = results.pop("max difference")
    names = list(variants)
    print(f"numpy motion frame (render + read_nv12) at {output.width}×{output.height}, median of {args.frames} frames")
    agree = "identical bytes" if largest == 0 else f"bytes within {largest} code value"
    print(f"(ms wall / ms CPU of all threads; the variants drew {agree})")
    print()
    print("| motion | " + " | ".join(names) + " | ratio to first |")
    print("|---|" + "---:|" * (len(names) + 1))
    for name, by in results.items():
        cells = [f"{by[v][0] * 1000:.1f} / {by[v][1] * 1000:.1f}" for v in names]
        ratios = " · ".join(f"{by[v][0] / by[names[0]][0]:.2f}" for v in names[1:])
        print(f"| {name} | " + " | ".join(cells) + f" | {ratios} |")


def time_motion(compositor, the_deck, output, frames: int, into: np.ndarray) -> dict[str, float]:
    rasterizer = SlideRasterizer(the_deck, output)
    still = [compositor.upload(f"still-{i}", rasterizer.raster(i)[1]) for i in (0, 1)]
    moving = {}
    for index, name in CASES.items():
        layers = rasterizer.layers(index)
        moving[name] = (compositor.upload_layers(f"moving-{index}", layers), layers.count, the_deck.motion(index))
    times: dict[str, list[float]] = {name: [] for name in ["fade", *CASES.values()]}
    for k in range(-1, frames):  # k = -1: warm-up (shader compiles, caches)
        fraction = (k + 1) / (frames + 1)
        for name, samples in times.items():
            if name == "fade":
                spec = FrameSpec(still[0], still[1], "fade", fraction)
            else:
                handle, count, motion = moving[name]
                window = motion.windows[0]
                t = window[0] + fraction * (window[1] - window[0])
                spec = FrameSpec(handle, source_state=motion.state(t, count, output.width, output.height))
            started = time.perf_counter()
            compositor.render(spec)
            compositor.read_nv12(into)
            if k >= 0:
                samples.append(time.perf_counter() - started)
    return {name: statistics.median(samples) for name, samples in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--frames", type=int, default=15, help="timed frames per case (default 15)")
    parser.add_argument("--compositors", default="gl,cpu", help="comma-separated (default gl,cpu)")
    parser.add_argument("--before", help="also time the numpy motion twin at this git revision (cpu only)")
    parser.add_argument("--threads", help="comma-separated thread counts for the numpy motion twin (cpu only)")
    args = parser.parse_args(argv)
    output = resolve_output(f"{args.size.lower()}@30")
    into = np.empty(nv12_size(output.width, output.height), dtype=np.uint8)
    if args.before or args.threads:
        args.threads = args.threads or "2"
        compare(args, output, into)
        return 0
    results, renderers = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        the_deck = deck(Path(folder))
        for kind in args.compositors.split(","):
            try:
                compositor = open_compositor(kind, output.width, output.height)
            except BackendUnavailableError as exc:
                print(f"{kind}: unavailable ({exc})", file=sys.stderr)
                continue
            try:
                renderers[kind] = f"{compositor.kind}, {compositor.renderer}"
                results[kind] = time_motion(compositor, the_deck, output, args.frames, into)
            finally:
                compositor.close()
    kinds = list(results)
    print(f"Per-frame composite (render + read_nv12) at {output.width}×{output.height}, median of {args.frames} frames")
    for kind in kinds:
        print(f"- {kind}: {renderers[kind]}")
    print()
    print("| motion | " + " | ".join(f"{kind} ms | {kind} × fade" for kind in kinds) + " |")
    print("|---|" + "---:|---:|" * len(kinds))
    for name in ["fade", *CASES.values()]:
        cells = []
        for kind in kinds:
            ms, fade = results[kind][name] * 1000, results[kind]["fade"] * 1000
            cells += [f"{ms:.1f}", f"{ms / fade:.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
