#!/usr/bin/env python
"""Picture quality per region at `standard`: what the encode keeps of each part of the frame.

Renders the example deck (examples/meal-plan.json) through the engine for each
platform and encoder configuration, decodes the whole file, and compares sampled
frames of every kind with what the compositor made for them
(`engine.pipeline.render_still_nv12`, the same compositor), luma against luma:

- holds (the middle of every hold of 10+ frames, and its first frame when motion
  comes before it: P-frames carry that frame's quality through the hold), the Ken
  Burns frames on the image slide, the drift, builds and chart reveals, and the middle
  frame of every transition;
- per region, classified on the composited frame in 8×8 blocks:
  - picture: blocks inside the Ken Burns picture's box, on its moving frames;
  - gradient: smooth blocks (no two neighbouring samples more than 3 codes apart)
    elsewhere that lie within 8 codes of a shown slide's bare background: the theme's
    dithered gradient, not chart bars or other flat fills;
  - text: blocks with a sharp edge (neighbours 32+ codes apart) elsewhere: glyphs,
    chart axes and bar edges;
  - frame: the whole frame.

Each cell is the lowest PSNR of that region over the sampled frames. Contour steps
barely move PSNR (a gradient whose ±½-code dither is flattened into bands still
scores ~54 dB), so "stepped" counts them apart: the share of gradient blocks on the
hold frames whose mean is off by half a code or more (losing the dither alone leaves
the mean; a band shifts it), and "worst step" the largest such offset. Sizes and PSNR
are deterministic; times are one render each on a shared machine, so noisy: `encode`
is the time spent in the encoder calls while the compositor runs on the other core.

The `hevc` and `av1` configurations render with `--codec hevc`/`av1` (libx265,
libsvtav1); `hevc, x265 crf N` and `av1, svt crf N` fix the encoder's own CRF whatever
`conformance.x265_crf`/`svtav1_crf` map `standard`'s CRF to now (the rest of the encoder's
options stay as the engine has them).

    python bench/quality.py                       # every configuration, youtube and tiktok
    python bench/quality.py --configs before after --platforms youtube
    python bench/quality.py --configs hevc av1 --name quality-codecs
    python bench/quality.py --markdown            # rewrite quality.md from quality.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform as host
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.colour import rgb_to_nv12
from engine.layout import ImagePlacement
from engine.pipeline import render_still_nv12
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import Hold, Motion, Transition, build_timeline

HERE = Path(__file__).resolve().parent
DECK = ROOT / "examples" / "meal-plan.json"
REGIONS = ("picture", "gradient", "text", "frame")
BLOCK = 8
SMOOTH, EDGE = 3, 32  # codes between neighbouring luma samples
BACKGROUND = 8  # codes from the bare background that a gradient block may be
STEP = 0.5  # mean error (codes) of a gradient block that counts as a contour step

#: The `standard` preset before this bench (CRF 23, x264's own AQ and psy-rd),
#: spelled out so it stays reproducible whatever QUALITIES says now.
_BEFORE = {"crf": 23, "preset": "veryfast", "lookahead": 5, "aq_mode": None, "aq_strength": None, "psy_rd": None}

#: name → (what it is, fields of `Output` replaced on resolve_output(platform, "standard")).
CONFIGS: dict[str, tuple[str, dict]] = {
    "before": ("CRF 23, x264 defaults (aq 1:1.0, psy-rd 1.0)", _BEFORE),
    "after": ("`standard` as QUALITIES has it now", {}),
    "after, no cap": ("the same without the VBV cap (maxrate/bufsize off)", {"max_bitrate": 0, "buffer_size": 0}),
    "crf 15, x264 defaults": ("CRF 15, aq 1:1.0, psy-rd 1.0", {**_BEFORE, "crf": 15}),
    "crf 16, tune psnr": (
        "CRF 16, aq off, psy-rd off (x264's tune psnr)",
        {**_BEFORE, "crf": 16, "aq_mode": 0, "psy_rd": 0.0},
    ),
    "crf 16, aq 3:0.6, psy off": ("the chosen AQ and psy-rd at CRF 16", {"crf": 16}),
    "hevc": ("`standard` with `--codec hevc` (libx265), its CRF as the mapping gives it now", {"codec": "hevc"}),
    "av1": ("`standard` with `--codec av1` (libsvtav1), its CRF as the mapping gives it now", {"codec": "av1"}),
    # The encoders' own CRF, fixed: where the mapping was, and the steps around it.
    **{f"hevc, x265 crf {n}": (f"libx265 at its CRF {n}", {"codec": "hevc", "encoder_crf": n}) for n in range(14, 21)},
    **{f"av1, svt crf {n}": (f"libsvtav1 at its CRF {n}", {"codec": "av1", "encoder_crf": n}) for n in range(15, 28)},
}


@dataclass(frozen=True)
class Sample:
    frame: int
    kind: str  # hold, hold start, ken burns, drift, build, reveal, transition
    picture: tuple[int, int, int, int] | None  # the moving picture's box on this frame
    slides: tuple[int, ...]  # the slides on screen


def _spread(start: int, end: int, count: int) -> list[int]:
    """`count` frames spread over [start, end), the last one included."""
    if end - start <= count:
        return list(range(start, end))
    return sorted({start + round((end - 1 - start) * (i + 1) / count) for i in range(count)})


def sample_frames(deck, output) -> list[Sample]:
    timeline = build_timeline(deck.timings(), output.fps)
    rasterizer = SlideRasterizer(deck, output)
    samples: list[Sample] = []
    previous = None
    for segment in timeline:
        if isinstance(segment, Hold) and segment.frames >= 10:
            if isinstance(previous, (Motion, Transition)):
                samples.append(Sample(segment.start, "hold start", None, (segment.slide,)))
            samples.append(Sample((segment.start + segment.end) // 2, "hold", None, (segment.slide,)))
        elif isinstance(segment, Motion):
            motion = deck.motion(segment.slide)
            if motion.ken_burns is not None:
                layout = rasterizer.layout(segment.slide)
                box = next(item.rect for item in layout.items if isinstance(item, ImagePlacement))
                samples += [
                    Sample(f, "ken burns", box, (segment.slide,)) for f in _spread(segment.start, segment.end, 8)
                ]
            else:
                kind = "drift" if motion.drift else "reveal" if motion.reveal else "build"
                samples += [Sample(f, kind, None, (segment.slide,)) for f in _spread(segment.start, segment.end, 3)]
        elif isinstance(segment, Transition):
            middle = (segment.start + segment.end) // 2
            samples.append(Sample(middle, "transition", None, (segment.from_slide, segment.to_slide)))
        previous = segment
    return samples


def _blocks(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape[0] // BLOCK * BLOCK, plane.shape[1] // BLOCK * BLOCK
    return plane[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK)


def background_luma(deck, output) -> dict[int, np.ndarray]:
    """Each slide's background alone, as luma (what lies under its content)."""
    rasterizer = SlideRasterizer(deck, output)
    size = output.width * output.height
    return {
        i: rgb_to_nv12(np.ascontiguousarray(rasterizer.background(i)))[:size].reshape(output.height, output.width)
        for i in range(len(deck.slides))
    }


def region_masks(
    luma: np.ndarray, picture: tuple[int, int, int, int] | None, backgrounds: list[np.ndarray]
) -> dict[str, np.ndarray]:
    """Block masks (one bool per 8×8 block) of each region of a composited luma plane.

    Gradient blocks are smooth and within `BACKGROUND` codes of the background of a slide
    on screen (the margin takes in a drift's shift and a fade's mix of two gradients),
    which keeps chart bars, bands and other flat fills out.
    """
    y = luma.astype(np.int16)
    dx = np.zeros_like(y)
    dx[:, :-1] = np.abs(np.diff(y, axis=1))
    dy = np.zeros_like(y)
    dy[:-1] = np.abs(np.diff(y, axis=0))
    step = np.maximum(_blocks(dx).max(axis=(1, 3)), _blocks(dy).max(axis=(1, 3)))
    inside = np.zeros(step.shape, bool)
    near = np.zeros(step.shape, bool)
    if picture is not None:
        x0, y0, x1, y1 = picture
        inside[-(-y0 // BLOCK) : y1 // BLOCK, -(-x0 // BLOCK) : x1 // BLOCK] = True
        near[y0 // BLOCK : -(-y1 // BLOCK), x0 // BLOCK : -(-x1 // BLOCK)] = True
    background = np.zeros(step.shape, bool)
    for plane in backgrounds:
        background |= _blocks(np.abs(y - plane.astype(np.int16))).max(axis=(1, 3)) <= BACKGROUND
    return {
        "picture": inside,
        "gradient": (step <= SMOOTH) & background & ~near,
        "text": (step >= EDGE) & ~near,
        "frame": np.ones(step.shape, bool),
    }


def _psnr(mse: float) -> float:
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def references(deck, output, samples: list[Sample], compositor: str) -> dict[int, np.ndarray]:
    """Luma of each sampled frame as the compositor makes it."""
    size = output.width * output.height
    return {
        s.frame: render_still_nv12(deck, output, s.frame / output.fps, compositor=compositor)[:size].reshape(
            output.height, output.width
        )
        for s in samples
    }


def measure_file(
    path: Path, samples: list[Sample], refs: dict[int, np.ndarray], backgrounds: dict[int, np.ndarray], fps: int
) -> dict:
    """Per-region PSNR of the sampled frames of `path`, its packet sizes and x264's options."""
    import av

    by_frame = {s.frame: s for s in samples}
    worst: dict[str, tuple[float, int, str]] = {}
    per_kind: dict[str, dict[str, float]] = {}
    step = (0.0, -1)
    stepped = gradient_blocks = 0
    sizes: dict[int, int] = {}
    options = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            frame_number = round(packet.pts * stream.time_base * fps)
            sizes[frame_number] = packet.size
            if options is None and b"options: " in bytes(packet):
                raw = bytes(packet).split(b"options: ", 1)[1]
                options = raw.split(b"\x00", 1)[0].split(b"\x80", 1)[0].decode("ascii", "replace")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            number = round(frame.pts * stream.time_base * fps)
            sample = by_frame.get(number)
            if sample is None:
                continue
            ref = refs[number]
            decoded = frame.to_ndarray(format="yuv420p")[: ref.shape[0]]
            error = decoded.astype(np.float32) - ref.astype(np.float32)
            whole = _psnr(float(np.mean(error * error)))
            if whole < 30:
                raise SystemExit(
                    f"{path.name}: frame {number} ({sample.kind}) is {whole:.1f} dB from its composited reference, "
                    "which no encoder setting explains: the engine's code changed while the bench ran, or a still "
                    "and a render composite that frame differently. Rerun on a quiet tree."
                )
            sse = _blocks(error * error).sum(axis=(1, 3))
            masks = region_masks(ref, sample.picture, [backgrounds[i] for i in sample.slides])
            for region, mask in masks.items():
                count = int(mask.sum())
                if count == 0:
                    continue
                db = _psnr(float(sse[mask].sum()) / (count * BLOCK * BLOCK))
                if region not in worst or db < worst[region][0]:
                    worst[region] = (db, number, sample.kind)
                kinds = per_kind.setdefault(sample.kind, {})
                kinds[region] = min(kinds.get(region, math.inf), db)
            if sample.kind in ("hold", "hold start") and masks["gradient"].any():
                offsets = np.abs(_blocks(error).mean(axis=(1, 3)))[masks["gradient"]]
                stepped += int((offsets >= STEP).sum())
                gradient_blocks += offsets.size
                biggest = float(offsets.max())
                if biggest > step[0]:
                    step = (biggest, number)
    seconds = (max(sizes) + 1) / fps
    window = [sizes.get(f, 0) for f in range(max(sizes) + 1)]
    per_second = np.convolve(np.array(window, float), np.ones(fps), mode="valid") * 8 if len(window) >= fps else [0]
    return {
        "regions": {r: {"min_db": round(v[0], 2), "frame": v[1], "kind": v[2]} for r, v in worst.items()},
        "per_kind": {k: {r: round(v, 2) for r, v in d.items()} for k, d in sorted(per_kind.items())},
        "gradient_step": {"codes": round(step[0], 2), "frame": step[1]},
        "stepped_percent": round(100 * stepped / max(gradient_blocks, 1), 3),
        "bytes": path.stat().st_size,
        "video_bytes": int(sum(sizes.values())),
        "mbps": sum(sizes.values()) * 8 / seconds / 1e6,
        "peak_1s_mbps": float(np.max(per_second)) / 1e6,
        "x264_options": options,
    }


def run_config(name: str, overrides: dict, platform: str, compositor: str, work: Path) -> dict:
    out = work / f"{platform}-{name.replace(' ', '_').replace(',', '').replace(':', '')}.mp4"
    args = [str(DECK), str(out), platform, compositor, json.dumps(overrides)]
    command = [sys.executable, "-m", "bench.child", "quality", *args]  # a fresh process: its own peak RSS
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise SystemExit(f"render of {name!r} for {platform} failed:\n{result.stderr}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {"report": report, "path": out}


def markdown(results: dict) -> str:
    lines = [f"# Picture quality per region at `standard`, {results['date']}", "", f"Machine: {results['machine']}", ""]
    lines += [
        (
            f"Deck: `{results['deck']}`, compositor {results['compositor']}. Luma PSNR (dB), lowest over "
            f"{results['samples']} sampled frames per platform. Stepped: share of gradient blocks on holds whose mean "
            "is off by ½ code or more (contour steps); worst step: the largest such offset (codes). Video MB and Mbit/s count the video stream only (the file adds the deck's "
            "sound and cover art). Encode seconds: one run each, noisy (shared 2-core machine)."
        ),
        "",
    ]
    for name, (what, _) in CONFIGS.items():
        if name in results["configs"]:
            lines.append(f"- **{name}**: {what}")
    for platform, configs in results["platforms"].items():
        lines += [
            "",
            f"## {platform} ({configs['size']})",
            "",
            "| configuration | picture | gradient | text | frame | stepped | worst step | video MB | Mbit/s | peak 1 s Mbit/s | encode s | render s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in configs["results"].items():
            cells = [f"{r['regions'][g]['min_db']:.1f}" if g in r["regions"] else "–" for g in REGIONS]
            lines.append(
                f"| {name} | "
                + " | ".join(cells)
                + f" | {r['stepped_percent']:.2f} % | {r['gradient_step']['codes']:.2f} | {r['video_bytes'] / 1e6:.2f} "
                f"| {r['mbps']:.2f} | {r['peak_1s_mbps']:.2f} | {r['encode_seconds']:.1f} | {r['wall_seconds']:.1f} |"
            )
        shown = [n for n in ("before", "after") if n in configs["results"]]
        if shown:
            kinds = sorted({k for n in shown for k in configs["results"][n]["per_kind"]})
            lines += [
                "",
                "Lowest PSNR by kind of frame (" + " → ".join(shown) + "):",
                "",
                "| kind | "
                + " | ".join(f"{g} ({' → '.join(shown)})" for g in ("text", "picture", "gradient", "frame"))
                + " |",
                "|---|---|---|---|---|",
            ]
            for kind in kinds:
                cells = []
                for region in ("text", "picture", "gradient", "frame"):
                    values = [configs["results"][n]["per_kind"].get(kind, {}).get(region) for n in shown]
                    cells.append(" → ".join("–" if v is None else f"{v:.1f}" for v in values))
                lines.append(f"| {kind} | " + " | ".join(cells) + " |")
        cap = configs.get("cap_mbps")
        if cap:
            lines += ["", f"VBV cap at `standard`: {cap:g} Mbit/s, buffer {2 * cap:g} Mbit."]
        effect = configs.get("cap_effect")
        if effect is not None:
            changed = effect["frames_changed"]
            lines.append(
                f"Coded pictures that differ between `after` and `after, no cap`: {len(changed)} of {effect['frames']}"
                + (
                    f" (frames {', '.join(map(str, changed[:12]))}{' …' if len(changed) > 12 else ''}; there the"
                    f" capped stream has {abs(effect['bytes_saved_by_cap'])} bytes "
                    f"{'fewer' if effect['bytes_saved_by_cap'] > 0 else 'more'})"
                    if changed
                    else ""
                )
                + "."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platforms", nargs="+", default=["youtube", "tiktok"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--compositor", default="cpu", choices=["auto", "gl", "cpu"])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--name", default="quality", help="results file stem: NAME.json and NAME.md in --out")
    parser.add_argument("--markdown", action="store_true", help="only rewrite NAME.md from NAME.json")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.markdown:
        text = markdown(json.loads((args.out / f"{args.name}.json").read_text()))
        (args.out / f"{args.name}.md").write_text(text)
        print(text)
        return
    work = args.out / f"work-{args.name}"
    shutil.rmtree(work, ignore_errors=True)  # also what a killed earlier run left
    work.mkdir()

    import psutil

    deck = load_deck(DECK)
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{host.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {host.python_version()}",
        "deck": str(DECK.relative_to(ROOT)),
        "compositor": args.compositor,
        "configs": {name: {"description": CONFIGS[name][0], "overrides": CONFIGS[name][1]} for name in args.configs},
        "platforms": {},
    }
    for platform in args.platforms:
        output = resolve_output(platform, "standard")
        samples = sample_frames(deck, output)
        results["samples"] = len(samples)
        started = time.perf_counter()
        refs = references(deck, output, samples, args.compositor)
        backgrounds = background_luma(deck, output)
        print(f"{platform}: {len(samples)} reference frames in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        entry = {
            "size": f"{output.width}x{output.height}@{output.fps}",
            "cap_mbps": output.max_bitrate / 1e6,
            "frames": [{"frame": s.frame, "kind": s.kind} for s in samples],
            "results": {},
        }
        pictures = {}
        for name in args.configs:
            run = run_config(name, CONFIGS[name][1], platform, args.compositor, work)
            measured = measure_file(run["path"], samples, refs, backgrounds, output.fps)
            report = run["report"]
            stages = report["stage_seconds"]
            measured.update(
                encode_seconds=stages.get("encode", 0.0) + stages.get("finish", 0.0),
                wall_seconds=report["wall_seconds"],
                peak_rss_mb=report["peak_mb"],
                settings=report["output"],
            )
            entry["results"][name] = measured
            if name in ("after", "after, no cap"):
                pictures[name] = coded_pictures(run["path"], output.fps)
            run["path"].unlink()
            regions = ", ".join(f"{g} {v['min_db']:.1f}" for g, v in measured["regions"].items())
            print(
                f"  {name}: {regions}; {measured['bytes'] / 1e6:.2f} MB, encode {measured['encode_seconds']:.1f} s",
                file=sys.stderr,
            )
        if len(pictures) == 2:
            entry["cap_effect"] = cap_effect(pictures["after"], pictures["after, no cap"])
        results["platforms"][platform] = entry
    shutil.rmtree(work, ignore_errors=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / f"{args.name}.md").write_text(markdown(results))
    print(markdown(results))


def coded_pictures(path: Path, fps: int) -> dict[int, bytes]:
    """Frame number → its coded picture: every NAL unit but SEI, where x264 spells out
    its options (the VBV cap among them)."""
    import av

    pictures = {}
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            data, at, units = bytes(packet), 0, []
            while at + 4 <= len(data):  # MP4 samples: 4-byte big-endian length, then the NAL unit
                length = int.from_bytes(data[at : at + 4], "big")
                nal = data[at + 4 : at + 4 + length]
                if nal and nal[0] & 0x1F != 6:
                    units.append(nal)
                at += 4 + length
            pictures[round(packet.pts * stream.time_base * fps)] = b"".join(units)
    return pictures


def cap_effect(capped: dict[int, bytes], uncapped: dict[int, bytes]) -> dict:
    """Which frames the VBV cap changed, and by how many bytes."""
    changed = sorted(f for f in capped if capped[f] != uncapped.get(f))
    return {
        "frames": len(capped),
        "frames_changed": changed,
        "bytes_saved_by_cap": sum(len(uncapped.get(f, b"")) - len(capped[f]) for f in changed),
    }


if __name__ == "__main__":
    main()
