"""What the benches measure in a fresh process, one function per measurement.

    python -m bench.child engine DECK OUT PLATFORM COMPOSITOR [RENDER_OPTIONS_JSON]
    python -m bench.child capture DECK FOLDER PLATFORM COMPOSITOR [RENDER_OPTIONS_JSON]
    python -m bench.child encode-only FOLDER OUT
    python -m bench.child encode-only-threaded FOLDER OUT
    python -m bench.child encode-as-engine FOLDER OUT
    python -m bench.child quality DECK_FILE OUT PLATFORM COMPOSITOR OVERRIDES_JSON

DECK is inline JSON or a deck file. `capture` renders once through the engine and keeps
the frames it encoded; `encode-only` then times the encoder alone on them, every frame
encoded (`encode-only-threaded`: with x264's lookahead thread, which the engine leaves
out to hold less memory), and `encode-as-engine` hands them over as the engine did (a
hold once, with its count): the engine's own encoding, what it would take if
compositing cost nothing. Each prints one JSON line; `cpu_seconds` is the process's CPU
time (all threads) over what was timed, which on a machine with few cores says more
than wall time about what the work costs. A fresh process per measurement makes its
peak RSS (VmHWM) that render's own; `process_seconds` counts from this module's start,
engine import included, which is why the engine is imported inside the functions.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

_STARTED = time.perf_counter()  # before the engine is imported

__all__ = ["capture", "encode_as_engine", "encode_only", "engine_render", "nv12_bytes", "peak_mb", "quality_render"]


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def engine_render(deck: dict | str, out: str, platform: str, compositor: str, options: dict | None = None) -> dict:
    """The engine end to end: `engine.render`'s report, with process time and peak RSS.
    `options` are further keyword arguments of `engine.render`."""
    import engine

    report = engine.render(deck, out, platform=platform, compositor=compositor, **(options or {}))
    result = report.to_dict()
    result["process_seconds"] = time.perf_counter() - _STARTED
    result["cpu_seconds"] = time.process_time()
    result["peak_mb"] = peak_mb()
    return result


def _deck_argument(deck: str) -> dict | str:
    """A deck on the command line: inline JSON, or the path of a deck file (its assets
    are found beside it)."""
    return json.loads(deck) if deck.lstrip().startswith("{") else deck


class _CapturingEncoder:
    """Hands every frame to the real encoder and also appends each distinct buffer, with
    the timestamps it stands for, to a raw NV12 file."""

    def __init__(self, encoder, raw) -> None:
        self._encoder, self._raw = encoder, raw
        self.name = encoder.name
        self.frames: list[tuple[int, int]] = []  # (first_pts, count), one per buffer written

    def open(self, path: Path) -> None:
        self._encoder.open(path)

    def encode(self, frame, pts: int) -> None:
        self.encode_repeated(frame, pts, 1)

    def encode_repeated(self, frame, first_pts: int, count: int) -> None:
        self._raw.write(memoryview(frame))
        self.frames.append((first_pts, count))
        self._encoder.encode_repeated(frame, first_pts, count)

    def close(self):
        return self._encoder.close()

    def abort(self) -> None:
        self._encoder.abort()


def capture(deck: dict | str, folder: str, platform: str, compositor: str, options: dict | None = None) -> dict:
    """Render `deck` through the engine once, keeping every frame it handed to the
    encoder (`frames.nv12`) and the encoder's name and settings (`capture.json`), so
    that `encode_only` can feed the very same frames to the same encoder settings."""
    from dataclasses import asdict

    import engine
    import engine.pipeline

    where = Path(folder)
    where.mkdir(parents=True, exist_ok=True)
    opened: dict = {}
    real_open = engine.pipeline.open_encoder

    with open(where / "frames.nv12", "wb") as raw:

        def open_capturing(name, settings, fallbacks=None, *more):
            encoder = _CapturingEncoder(real_open(name, settings, fallbacks, *more), raw)
            opened.update(encoder=encoder, settings=settings)
            return encoder

        engine.pipeline.open_encoder = open_capturing
        try:
            report = engine.render(
                deck, where / "capture.mp4", platform=platform, compositor=compositor, **(options or {})
            )
        finally:
            engine.pipeline.open_encoder = real_open
    (where / "capture.mp4").unlink(missing_ok=True)
    if "encoder" not in opened:
        raise SystemExit("capture: the engine did not open its encoder through engine.pipeline.open_encoder")
    encoder = opened["encoder"]
    captured = sum(count for _, count in encoder.frames)
    if captured != report.frames:
        raise SystemExit(f"capture: {captured} frames reached the encoder, the render has {report.frames}")
    settings = asdict(opened["settings"])
    result = {
        "encoder": encoder.name,
        "settings": settings,
        "lookahead_thread_differs": _lookahead_thread_differs(encoder.name, opened["settings"]),
        "frame_bytes": nv12_bytes(settings["width"], settings["height"]),
        "frames": encoder.frames,
        "total_frames": captured,
    }
    (where / "capture.json").write_text(json.dumps(result))
    return {k: v for k, v in result.items() if k != "frames"} | {"distinct_frames": len(encoder.frames)}


def _lookahead_thread_differs(encoder: str, settings) -> bool:
    """Would x264's lookahead thread change these settings' encoder options (x264 up to
    1080p)? Where not, `encode-only-threaded` would time encode-only again."""
    from dataclasses import replace

    from engine.encode.pyav import encoder_options

    threaded = replace(settings, lookahead_thread=True)
    return encoder == "libx264" and encoder_options(settings, encoder) != encoder_options(threaded, encoder)


def nv12_bytes(width: int, height: int) -> int:
    """Bytes of one NV12 frame of `width`×`height`."""
    from engine.colour import nv12_size

    return nv12_size(width, height)


def encode_only(folder: str, out: str, lookahead_thread: bool = False) -> dict:
    """Time the encoder alone on the frames `capture` kept: the same encoder and
    settings, every frame encoded (one `encode` call per timestamp, so nothing an
    encoder may do for a hold applies). Frames are read into memory first, untimed.

    `lookahead_thread` gives x264 its lookahead thread back (`EncodeSettings`), which
    the engine leaves out for memory: the floor as fast as x264 alone goes."""
    return _encode_captured(folder, out, as_engine=False, lookahead_thread=lookahead_thread)


def encode_as_engine(folder: str, out: str) -> dict:
    """Time the encoder on the frames `capture` kept, handed over as the engine handed
    them: a hold once, with its count (`encode_repeated`: skipped holds where the encoder
    can). The engine's encoding alone: its time if compositing cost nothing."""
    return _encode_captured(folder, out, as_engine=True)


def _encode_captured(folder: str, out: str, *, as_engine: bool, lookahead_thread: bool = False) -> dict:
    import numpy as np
    import psutil

    from engine.encode import EncodeSettings, open_encoder

    where = Path(folder)
    kept = json.loads((where / "capture.json").read_text())
    fields = dict(kept["settings"])
    if "skip_holds" in fields and not as_engine:  # the floor encodes every frame, whatever the engine did
        fields["skip_holds"] = False
    if lookahead_thread:
        fields["lookahead_thread"] = True
    settings = EncodeSettings(**fields)
    raw = where / "frames.nv12"
    if raw.stat().st_size < 0.4 * psutil.virtual_memory().available:
        frames = np.fromfile(raw, dtype=np.uint8).reshape(-1, kept["frame_bytes"])
    else:  # too big to hold: read as the encoder goes (from the page cache, mostly)
        frames = np.memmap(raw, dtype=np.uint8, mode="r").reshape(-1, kept["frame_bytes"])
    encoder = open_encoder(kept["encoder"], settings)
    started, cpu = time.perf_counter(), time.process_time()
    encoder.open(Path(out))
    for buffer, (first_pts, count) in zip(frames, kept["frames"], strict=True):
        if as_engine:
            encoder.encode_repeated(buffer, first_pts, count)
            continue
        for pts in range(first_pts, first_pts + count):
            encoder.encode(buffer, pts)
    stats = encoder.close()
    return {
        "encode_seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "encoder": stats.encoder,
        "frames": stats.frames,
        "bytes": stats.bytes,
        "in_memory": not isinstance(frames, np.memmap),
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
    result["cpu_seconds"] = time.process_time()
    result["peak_mb"] = peak_mb()
    fields = ("codec", "crf", "preset", "lookahead", "aq_mode", "aq_strength", "psy_rd", "max_bitrate", "buffer_size")
    result["output"] = {k: getattr(output, k) for k in fields}
    mapping = {"hevc": conformance.x265_crf, "av1": conformance.svtav1_crf}
    result["output"]["encoder_crf"] = mapping[output.codec](output.crf) if output.codec in mapping else output.crf
    return result


def main(argv: list[str]) -> None:
    what, *args = argv
    if what == "engine":
        deck, out, platform, compositor, *options = args
        result = engine_render(
            _deck_argument(deck), out, platform, compositor, json.loads(options[0]) if options else None
        )
    elif what == "capture":
        deck, folder, platform, compositor, *options = args
        result = capture(
            _deck_argument(deck), folder, platform, compositor, json.loads(options[0]) if options else None
        )
    elif what == "encode-only":
        folder, out = args
        result = encode_only(folder, out)
    elif what == "encode-only-threaded":
        folder, out = args
        result = encode_only(folder, out, lookahead_thread=True)
    elif what == "encode-as-engine":
        folder, out = args
        result = encode_as_engine(folder, out)
    elif what == "quality":
        deck_file, out, platform, compositor, overrides = args
        result = quality_render(deck_file, out, platform, compositor, json.loads(overrides))
    else:
        raise SystemExit(
            f"unknown measurement {what!r}: engine, capture, encode-only, encode-only-threaded, encode-as-engine or quality"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
