#!/usr/bin/env python
"""Per-frame cost of a video clip slide at 1080p, and its memory with the clip's length.

A clip frame pays: decoding the source frame (PyAV, threaded), scaling it to the fit
(swscale, one `reformat`), placing it in the slide's picture (and the logo over it),
then the compositor's upload in place of the frame before. Two ways: RGB (swscale to
RGB, then the numpy compositor's RGB → NV12), and NV12 (swscale straight to NV12 for a
clip in BT.709, uploaded as it is: what a render takes for such clips). Timed per part, medians of --frames frames, with a fade
frame of the numpy compositor at 1080p (render + read back) as the baseline, timed in
the same run. Then whole renders (numpy compositor, x264) of a clip slide of 5 s and
of 20 s: frames per second and peak RSS (flat with the clip's length).

    python bench/clips.py                    # parts, then the two renders
    python bench/clips.py --no-render        # parts only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine
from engine.colour import nv12_size
from engine.composite import FrameSpec, open_compositor
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.raster.clip import ClipFrames
from engine.spec import load_deck


def make_clip(path: Path, seconds: float, width: int, height: int, fps: int) -> Path:
    """A clip that changes every frame (moving ramp and bar, some noise), H.264 CRF 18."""
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 24, (height, width, 1), dtype=np.uint8)
    x = np.arange(width)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for k in range(round(seconds * fps)):
            ramp = (40 + ((x + 8 * k) % 160)).astype(np.uint8)
            image = np.empty((height, width, 3), np.uint8)
            image[...] = ramp[None, :, None]
            image[..., 1:] //= 2
            image += noise
            bar = (12 * k) % (width - 64)
            image[:, bar : bar + 64] = (235, 200, 80)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = k
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def parts(clip: Path, fit: str, frames: int, nv12: bool) -> dict[str, float]:
    deck = load_deck({"slides": [{"kind": "video", "file": str(clip), "fit": fit}]})
    output = resolve_output("youtube")
    rasterizer = SlideRasterizer(deck, output)
    clips = ClipFrames(rasterizer)
    comp = open_compositor("cpu", output.width, output.height)
    # The baseline: a fade frame between two slides, rendered and read back.
    a = np.full((output.height, output.width, 3), 30, np.uint8)
    b = np.full((output.height, output.width, 3), 200, np.uint8)
    ha, hb = comp.upload("a", a), comp.upload("b", b)
    buffer = np.empty(nv12_size(output.width, output.height), np.uint8)
    times: dict[str, list[float]] = {"picture": [], "upload": [], "read": [], "fade": []}
    handle = None
    try:
        for f in range(frames):
            t0 = time.perf_counter()
            serial, picture, is_nv12 = clips.picture(0, f / output.fps, nv12=nv12)
            t1 = time.perf_counter()
            if handle is not None:
                comp.release(handle)
            handle = (comp.upload_nv12 if is_nv12 else comp.upload)(f"clip#{serial}", picture)
            t2 = time.perf_counter()
            comp.render(FrameSpec(handle))
            comp.read_nv12(buffer)
            t3 = time.perf_counter()
            comp.render(FrameSpec(ha, hb, "fade", (f % 10 + 1) / 11))
            comp.read_nv12(buffer)
            t4 = time.perf_counter()
            for name, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[name].append(value)
    finally:
        clips.close()
        comp.close()
    return {name: _median_ms(values) for name, values in times.items()}


def whole(clip: Path, seconds: float, out: Path) -> engine.RenderReport:
    deck = {"slides": [{"kind": "video", "file": str(clip), "trim": [0, seconds], "loop": True, "duration": seconds}]}
    return engine.render(deck, out, platform="youtube", compositor="cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--no-render", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        full = make_clip(tmp / "1080p30.mp4", 5.0, 1920, 1080, 30)
        small = make_clip(tmp / "720p25.mp4", 5.0, 1280, 720, 25)
        print("| source | fit | path | decode+scale (ms) | upload (ms) | read (ms) | clip frame (ms) | fade (ms) |")
        print("|---|---|---|---|---|---|---|---|")
        for clip, label, fit in ((full, "1080p30", "fill"), (small, "720p25", "cover"), (small, "720p25", "contain")):
            for nv12 in (False, True):
                p = parts(clip, fit, args.frames, nv12)
                total = p["picture"] + p["upload"] + p["read"]
                print(
                    f"| {label} | {fit} | {'NV12' if nv12 else 'RGB'} | {p['picture']:.1f} | {p['upload']:.1f} | "
                    f"{p['read']:.1f} | {total:.1f} ({total / p['fade']:.1f}× fade) | {p['fade']:.1f} |"
                )
        if args.no_render:
            return
        print()
        print("| render (youtube, numpy, x264) | frames | frames/s rendered | clip+upload ms/frame | peak RSS (MB) |")
        print("|---|---|---|---|---|")
        for seconds in (5.0, 20.0):
            report = whole(full, seconds, tmp / f"clip{seconds:g}.mp4")
            per = 1000 * (report.stage_seconds.get("clip", 0) + report.stage_seconds.get("upload", 0)) / report.frames
            print(
                f"| {seconds:g} s clip slide | {report.frames} | {report.fps_rendered:.1f} | {per:.1f} | {report.peak_rss_mb:.0f} |"
            )


if __name__ == "__main__":
    main()
