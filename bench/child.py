"""What the benches measure in a fresh process, one function per measurement.

    python -m bench.child engine DECK_JSON OUT PLATFORM COMPOSITOR
    python -m bench.child encode-only DECK_JSON OUT PLATFORM
    python -m bench.child quality DECK_FILE OUT PLATFORM COMPOSITOR OVERRIDES_JSON

Each prints one JSON line. A fresh process per measurement makes its peak RSS (VmHWM)
that render's own; `process_seconds` counts from this module's start, engine import
included, which is why the engine is imported inside the functions.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()  # before the engine is imported

__all__ = ["encode_only", "engine_render", "peak_mb", "quality_render"]


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def engine_render(deck: dict, out: str, platform: str, compositor: str) -> dict:
    """The engine end to end: `engine.render`'s report, with process time and peak RSS."""
    import engine

    report = engine.render(deck, out, platform=platform, compositor=compositor)
    result = report.to_dict()
    result["process_seconds"] = time.perf_counter() - _STARTED
    result["peak_mb"] = peak_mb()
    return result


def encode_only(deck_data: dict, out: str, platform: str) -> dict:
    """Composite every distinct frame first (untimed), then time only the encoder on them,
    with the settings the engine uses."""
    import numpy as np

    from engine.colour import nv12_size
    from engine.composite import FrameSpec, open_compositor
    from engine.encode import EncodeSettings, open_encoder
    from engine.pipeline import glsl_files_of
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer
    from engine.spec import load_deck
    from engine.timeline import Hold, build_timeline

    deck = load_deck(deck_data)
    output = resolve_output(platform)
    timeline = build_timeline(deck.timings(), output.fps)
    raster = SlideRasterizer(deck, output)
    # numpy for built-ins; GL where the deck runs a transition file (as the engine does).
    comp = open_compositor("auto", output.width, output.height, glsl_files=glsl_files_of(timeline))
    handles = [comp.upload(*raster.raster(i)) for i in range(len(deck.slides))]
    frames = []  # (buffer, first_pts, count): every distinct frame, held in memory
    for seg in timeline:
        if isinstance(seg, Hold):
            specs = [(FrameSpec(handles[seg.slide]), seg.start, seg.frames)]
        else:
            specs = [
                (FrameSpec(handles[seg.from_slide], handles[seg.to_slide], seg.name, seg.progress(f), seg.params), f, 1)
                for f in range(seg.start, seg.end)
            ]
        for spec, pts, count in specs:
            comp.render(spec)
            buf = np.empty(nv12_size(output.width, output.height), np.uint8)
            comp.read_nv12(buf)
            frames.append((buf, pts, count))
    comp.close()
    encoder = open_encoder("auto", EncodeSettings.from_output(output))
    started = time.perf_counter()
    encoder.open(out)
    for buf, pts, count in frames:
        encoder.encode_repeated(buf, pts, count)
    stats = encoder.close()
    return {
        "encode_seconds": time.perf_counter() - started,
        "frames": stats.frames,
        "bytes": stats.bytes,
        "peak_mb": peak_mb(),
    }


def quality_render(deck_file: str, out: str, platform: str, compositor: str, overrides: dict) -> dict:
    """One render through the engine with the given `Output` fields replaced.

    `encoder_crf` among them fixes the encoder's own CRF, whatever the mapping from
    `standard`'s CRF says now.
    """
    from dataclasses import replace

    from engine.encode import conformance
    from engine.pipeline import render_output
    from engine.platforms import resolve_output
    from engine.spec import load_deck

    overrides = dict(overrides)
    if "encoder_crf" in overrides:
        fixed = overrides.pop("encoder_crf")
        conformance.x265_crf = conformance.svtav1_crf = lambda crf: fixed
    output = replace(resolve_output(platform, "standard"), **overrides)
    report = render_output(load_deck(deck_file), output, Path(out), compositor=compositor)
    result = report.to_dict()
    result["process_seconds"] = time.perf_counter() - _STARTED
    result["peak_mb"] = peak_mb()
    fields = ("codec", "crf", "preset", "lookahead", "aq_mode", "aq_strength", "psy_rd", "max_bitrate", "buffer_size")
    result["output"] = {k: getattr(output, k) for k in fields}
    mapping = {"hevc": conformance.x265_crf, "av1": conformance.svtav1_crf}
    result["output"]["encoder_crf"] = mapping[output.codec](output.crf) if output.codec in mapping else output.crf
    return result


def main(argv: list[str]) -> None:
    what, *args = argv
    if what == "engine":
        deck, out, platform, compositor = args
        result = engine_render(json.loads(deck), out, platform, compositor)
    elif what == "encode-only":
        deck, out, platform = args
        result = encode_only(json.loads(deck), out, platform)
    elif what == "quality":
        deck_file, out, platform, compositor, overrides = args
        result = quality_render(deck_file, out, platform, compositor, json.loads(overrides))
    else:
        raise SystemExit(f"unknown measurement {what!r}: engine, encode-only or quality")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
