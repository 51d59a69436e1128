#!/usr/bin/env python
"""What Reel gets from this machine's GPU, in one command and one JSON file.

    python bench/gpu_check.py                      # writes bench/results/gpu-check-<date>.json
    python bench/gpu_check.py --frames 5 --seconds 10 --out /tmp/check.json

It records, and prints as it goes:

- ``gl``: every EGL device (NVIDIA, Mesa software), the GL renderer string of the
  ``gl`` compositor, and what ``auto`` chooses, with the reasons for what it skipped;
- ``compositors``: frames per second of a fade and a Ken Burns (render + read_nv12)
  at 1080p and 4K, on ``gl`` and on ``cpu``;
- ``encoders``: every encoder of the preference table probed as the engine probes
  them (a tiny real encode), why each that fails does, what ``auto`` takes for each
  codec at 1080p30 and what it skipped; PyNvVideoCodec and FFmpeg's NVENC encoders
  included, and ``nvidia-smi``'s view of the GPU (H100 and H200 have no NVENC: the
  fallback to libx264 is recorded with its reason);
- ``deck60``: the bench deck (60 s, 1080p30, six slides, 1 s fades) end to end in a
  fresh process: engine time, fps, compositor, encoder, fallbacks and peak RSS.

It runs anywhere: on a machine with no GPU it records llvmpipe (software GL) and the
fallbacks, which is what a CPU-only machine should show.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

__all__ = ["check_compositors", "check_deck", "check_encoders", "check_gl", "main"]

SIZES = ("1920x1080", "3840x2160")


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _nvidia_smi() -> dict:
    """The GPUs `nvidia-smi` lists, or why it could not be asked."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return {"available": False, "reason": "nvidia-smi not found (no NVIDIA driver here)"}
    query = [tool, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]
    try:
        done = subprocess.run(query, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"available": False, "reason": _error(exc)}
    if done.returncode != 0:
        return {"available": False, "reason": (done.stderr or done.stdout).strip()[:300]}
    return {"available": True, "gpus": [line.strip() for line in done.stdout.splitlines() if line.strip()]}


def check_gl() -> dict:
    """EGL devices, the GL compositor's renderer, and what `auto` picks (and skips)."""
    from engine.composite import open_compositor
    from engine.composite._egl import list_devices
    from engine.errors import BackendUnavailableError

    devices = [
        {
            "index": d.index,
            "nvidia": d.is_nvidia,
            "software": d.is_software,
            "cuda_ordinal": d.cuda_ordinal,
            "extensions": sorted(d.extensions),
        }
        for d in list_devices()
    ]
    result: dict = {"egl_devices": devices, "nvidia_smi": _nvidia_smi()}
    try:
        gl = open_compositor("gl", 64, 64)
    except BackendUnavailableError as exc:
        result["gl"] = {"available": False, "reason": str(exc)}
    else:
        result["gl"] = {"available": True, "kind": gl.kind, "renderer": gl.renderer}
        gl.close()
    skipped: list[str] = []
    try:
        auto = open_compositor("auto", 1920, 1080, skipped)
    except BackendUnavailableError as exc:
        result["auto"] = {"chosen": None, "reason": str(exc), "skipped": skipped}
    else:
        result["auto"] = {"chosen": auto.name, "kind": auto.kind, "renderer": auto.renderer, "skipped": skipped}
        auto.close()
    result["auto_chooses_gl"] = result["auto"]["chosen"] == "gl"
    return result


def _motion_deck(folder: Path):
    """Two still slides (for the fade) and a photo under a Ken Burns."""
    import numpy as np
    from PIL import Image

    from engine.spec import load_deck

    photo = folder / "photo.jpg"
    pixels = np.random.default_rng(3).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((1600, 900), Image.Resampling.BICUBIC).save(photo, quality=90)
    return load_deck(
        {
            "theme": {"background": {"gradient": {"from": "#1b2a41", "to": "#0f6b5c", "direction": "diagonal"}}},
            "slides": [
                {"kind": "title", "title": "Still A"},
                {"kind": "title", "title": "Still B"},
                {
                    "kind": "image",
                    "file": str(photo),
                    "caption": "Ken Burns",
                    "motion": {"ken_burns": {"zoom": [1.0, 1.2], "pan": "right"}},
                },
            ],
        }
    )


def _time_compositor(name: str, size: str, frames: int, deck) -> dict:
    import numpy as np

    from engine.colour import nv12_size
    from engine.composite import FrameSpec, open_compositor
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer

    output = resolve_output(f"{size}@30")
    compositor = open_compositor(name, output.width, output.height)
    try:
        rasterizer = SlideRasterizer(deck, output)
        still = [compositor.upload(f"still-{i}", rasterizer.raster(i)[1]) for i in (0, 1)]
        layers = rasterizer.layers(2)
        moving = compositor.upload_layers("kenburns", layers)
        motion = deck.motion(2)
        start, end = motion.windows[0]
        into = np.empty(nv12_size(output.width, output.height), dtype=np.uint8)
        times: dict[str, list[float]] = {"fade": [], "ken_burns": []}
        for k in range(-1, frames):  # k = -1: warm-up (shader compiles, caches)
            fraction = (k + 1) / (frames + 1)
            specs = {
                "fade": FrameSpec(still[0], still[1], "fade", fraction),
                "ken_burns": FrameSpec(
                    moving,
                    source_state=motion.state(
                        start + fraction * (end - start), layers.count, output.width, output.height
                    ),
                ),
            }
            for case, spec in specs.items():
                began = time.perf_counter()
                compositor.render(spec)
                compositor.read_nv12(into)
                if k >= 0:
                    times[case].append(time.perf_counter() - began)
        result: dict = {"kind": compositor.kind, "renderer": compositor.renderer}
        for case, samples in times.items():
            ms = statistics.median(samples) * 1000
            result[case] = {"ms": round(ms, 2), "fps": round(1000 / ms, 1)}
        return result
    finally:
        compositor.close()


def check_compositors(sizes: tuple[str, ...] = SIZES, frames: int = 10, names: tuple[str, ...] = ("gl", "cpu")) -> dict:
    """Median ms and fps of a fade and a Ken Burns frame on each compositor at each size."""
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        deck = _motion_deck(Path(folder))
        for size in sizes:
            for name in names:
                key = f"{name} {size}"
                try:
                    results[key] = _time_compositor(name, size, frames, deck)
                except Exception as exc:  # noqa: BLE001 - a check reports what failed and goes on
                    results[key] = {"error": _error(exc)}
                print(f"  compositor {key}: {results[key]}", file=sys.stderr)
    return results


def check_encoders(size: str = "1920x1080") -> dict:
    """Every encoder probed as the engine probes it, PyNvVideoCodec's presence, and what
    `auto` picks for each codec at `size` (30 fps), with what it skipped and why."""
    from engine.encode import ENCODERS, EncodeSettings, auto_encoder, probe_encoder
    from engine.platforms import CODECS, resolve_output

    result: dict = {"probed": {}, "auto": {}}
    for name, entry in ENCODERS.items():
        reason = probe_encoder(name)
        result["probed"][name] = {"codec": entry.codec, "target": entry.target, "works": reason is None}
        if reason is not None:
            result["probed"][name]["reason"] = reason
    result["working"] = [name for name, probe in result["probed"].items() if probe["works"]]
    try:
        import PyNvVideoCodec  # type: ignore[import-not-found]

        version = getattr(PyNvVideoCodec, "__version__", "unknown version")
        result["pynvvideocodec"] = {"installed": True, "version": version}
    except Exception as exc:  # noqa: BLE001 - absent, or present without a driver
        result["pynvvideocodec"] = {"installed": False, "reason": _error(exc)}
    try:
        import av

        result["pyav"] = {"version": av.__version__, "ffmpeg": str(av.ffmpeg_version_info)}
        result["pyav"]["ffmpeg_nvenc_encoders"] = sorted(n for n in av.codecs_available if n.endswith("_nvenc"))
    except Exception as exc:  # noqa: BLE001
        result["pyav"] = {"error": _error(exc)}
    output = resolve_output(f"{size}@30")
    for codec in CODECS:
        skipped: list[str] = []
        settings = replace(EncodeSettings.from_output(output), codec=codec, profile=None)
        chosen = auto_encoder(codec, settings, skipped)
        result["auto"][codec] = {"chosen": chosen, "skipped": skipped}
    result["nvenc_used"] = any("nvenc" in (a["chosen"] or "") for a in result["auto"].values())
    if not result["nvenc_used"]:
        reasons = {n: p.get("reason") for n, p in result["probed"].items() if "nvenc" in n}
        result["nvenc_fallback"] = {"to": result["auto"]["h264"]["chosen"], "because": reasons}
    return result


def check_deck(seconds: float = 60, platform_name: str = "youtube", compositor: str = "auto") -> dict:
    """The bench deck end to end through `engine.render`, in a fresh process."""
    from bench.run import bench_deck

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "deck.mp4"
        command = [
            sys.executable,
            "-m",
            "bench.child",
            "engine",
            json.dumps(bench_deck(seconds)),
            str(out),
            platform_name,
            compositor,
        ]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-2000:]}
    report = json.loads(done.stdout.strip().splitlines()[-1])
    keep = ("frames", "duration", "compositor", "renderer", "encoder", "wall_seconds", "fps_rendered")
    result = {k: report.get(k) for k in keep}
    result |= {
        "size": f"{report['width']}x{report['height']}@{report['fps']}",
        "realtime_factor": report.get("realtime_factor"),
        "process_seconds": report["process_seconds"],
        "peak_rss_mb": round(report["peak_mb"], 1),
        "fallbacks": report.get("fallbacks", []),
        "stage_seconds": report.get("stage_seconds", {}),
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(SIZES), help="compositor sizes, comma-separated WxH")
    parser.add_argument("--frames", type=int, default=10, help="timed frames per compositor case (default 10)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the end-to-end deck (default 60)")
    parser.add_argument("--platform", default="youtube", help="platform of the end-to-end deck (default youtube)")
    parser.add_argument("--skip-deck", action="store_true", help="leave out the end-to-end render")
    parser.add_argument("--out", type=Path, help="the JSON file (default bench/results/gpu-check-<date>.json)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "bench" / "results" / f"gpu-check-{time.strftime('%Y-%m-%d-%H%M%S')}.json"

    started = time.perf_counter()
    summary: dict = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.node()}, {platform.machine()}, Python {platform.python_version()}",
    }
    steps = [
        ("gl", check_gl),
        ("encoders", check_encoders),
        ("compositors", lambda: check_compositors(tuple(args.sizes.split(",")), args.frames)),
    ]
    if not args.skip_deck:
        steps.append(("deck60", lambda: check_deck(args.seconds, args.platform)))
    for name, step in steps:
        print(f"{name}…", file=sys.stderr)
        began = time.perf_counter()
        try:
            summary[name] = step()
        except Exception as exc:  # noqa: BLE001 - one failed part must not lose the others
            summary[name] = {"error": _error(exc)}
        summary.setdefault("seconds", {})[name] = round(time.perf_counter() - began, 1)
    summary["seconds"]["total"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(_short(summary), indent=2))
    print(f"written: {out}", file=sys.stderr)
    return 0


def _short(summary: dict) -> dict:
    """The summary without the long lists (EGL extensions), for the terminal."""
    short = json.loads(json.dumps(summary))
    for device in short.get("gl", {}).get("egl_devices", []):
        device["extensions"] = len(device["extensions"])
    return short


if __name__ == "__main__":
    sys.exit(main())
