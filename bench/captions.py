#!/usr/bin/env python
"""Per-frame cost of a burned-in caption at 1080p (and 9:16), against a frame's copy.

A caption frame pays `CaptionOverlay.apply`: the cue's box blended into the NV12
frame (luma and chroma, numpy, the box alone). Drawing the cue (text engine, once per
cue and per highlighted word) is timed apart. Medians of --frames runs; the baseline
is a plain copy of the NV12 frame (what reading a frame back costs at least), timed
interleaved with the blend.

    python bench/captions.py                 # youtube and tiktok, box and outline
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.caption_burn import CaptionOverlay
from engine.captions import Cue
from engine.colour import nv12_size
from engine.platforms import resolve_output
from engine.spec import load_deck

TEXT = "Most short-form video is watched with the sound off, so captions matter most"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    print("| output | style | draw cue (ms, once) | blend (ms/frame) | copy of a frame (ms) | box |")
    print("|---|---|---|---|---|---|")
    for platform in ("youtube", "tiktok"):
        output = resolve_output(platform)
        for style in ("box", "outline"):
            deck = load_deck({"theme": {"captions": {"style": style}}, "slides": [{"kind": "title", "title": "A"}]})
            overlay = CaptionOverlay([Cue(0, 5, TEXT)], deck.theme, output)
            started = time.perf_counter()
            patch = overlay.patch(0)
            draw = time.perf_counter() - started
            frame = np.full(nv12_size(output.width, output.height), 90, np.uint8)
            spare = np.empty_like(frame)
            blend, copy = [], []
            for _ in range(args.frames):
                t0 = time.perf_counter()
                overlay.apply(1, frame)
                t1 = time.perf_counter()
                np.copyto(spare, frame)
                t2 = time.perf_counter()
                blend.append(t1 - t0)
                copy.append(t2 - t1)
            x0, y0, x1, y1 = patch.box
            print(
                f"| {output.width}x{output.height} | {style} | {draw * 1e3:.1f} | "
                f"{statistics.median(blend) * 1e3:.2f} | {statistics.median(copy) * 1e3:.2f} | {x1 - x0}x{y1 - y0} |"
            )


if __name__ == "__main__":
    main()
