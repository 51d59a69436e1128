"""Shared test tools: decode what was written and look at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from engine.platforms import resolve_output
from engine.slides import SLIDE_KINDS, Slide


@dataclass
class Probe:
    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frames: int  # decoded, not the container's claim
    keyframes: list[int]
    color_primaries: int
    color_trc: int
    colorspace: int
    color_range: int
    moov_before_mdat: bool
    duration: float


def probe(path: Path) -> Probe:
    """Decode every frame of `path` and report what a player would see."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        keyframes, frames = [], 0
        for frame in container.decode(stream):
            if frame.key_frame:
                keyframes.append(frames)
            frames += 1
        info = Probe(
            codec=cc.name,
            profile=cc.profile,
            pix_fmt=cc.pix_fmt,
            width=cc.width,
            height=cc.height,
            fps=float(stream.average_rate),
            frames=frames,
            keyframes=keyframes,
            color_primaries=cc.color_primaries,
            color_trc=cc.color_trc,
            colorspace=cc.colorspace,
            color_range=cc.color_range,
            moov_before_mdat=_moov_first(path),
            duration=float(container.duration / av.time_base) if container.duration else 0.0,
        )
    return info


def _moov_first(path: Path) -> bool:
    """Walk the top-level MP4 boxes: is `moov` before `mdat`?"""
    order = []
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1:
                size = int.from_bytes(fh.read(8), "big") - 8
            order.append(kind)
            fh.seek(size - 8, 1)
    return b"moov" in order and b"mdat" in order and order.index(b"moov") < order.index(b"mdat")


def decode_frames(path: Path, indices: set[int]) -> dict[int, np.ndarray]:
    """Decoded frames (H×W×3 uint8 RGB, BT.709 limited) at the given indices."""
    wanted: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in indices:
                wanted[i] = decode_rgb(frame)
            if len(wanted) == len(indices):
                break
    return wanted


def decode_nv12(frame) -> np.ndarray:
    """A decoded yuv420p frame as a flat NV12 buffer (same layout the engine writes)."""
    y = frame.to_ndarray(format="yuv420p")
    h = frame.height
    w = frame.width
    planes = y.reshape(-1)
    luma = planes[: w * h]
    u = planes[w * h : w * h + w * h // 4].reshape(h // 2, w // 2)
    v = planes[w * h + w * h // 4 :].reshape(h // 2, w // 2)
    return np.concatenate([luma, np.stack([u, v], axis=-1).reshape(-1)])


def decode_rgb(frame) -> np.ndarray:
    from engine.colour import nv12_to_rgb

    return nv12_to_rgb(decode_nv12(frame), frame.width, frame.height)


def slide(kind: str, **fields: Any) -> Slide:
    """A real spec slide of `kind` (validated as a deck's would be), for layout and raster tests."""
    defaults = {
        "title": {"title": "Title"},
        "bullets": {"title": "Heading", "bullets": ["One"]},
        "image": {},
        "text": {"text": "Text"},
    }[kind]
    return SLIDE_KINDS[kind].model_validate({"kind": kind, "duration": 5.0, **defaults, **fields})


#: One output per frame shape (16:9, 9:16, 1:1, 4:5) plus a draft size.
OUTPUTS = [
    resolve_output("youtube"),
    resolve_output("tiktok"),
    resolve_output("instagram_feed"),
    resolve_output("instagram_portrait"),
    resolve_output("youtube", "draft"),
]
OUTPUT_IDS = [o.label for o in OUTPUTS]


# Goldens, per channel on 0–255: FreeType versions may move antialiased edges by a little.
GOLDEN_MEAN_TOLERANCE = 1.0
GOLDEN_PIXEL_TOLERANCE = 64
GOLDEN_MAX_PIXELS_OVER = 0.005


def compare_with_golden(frame: np.ndarray, reference: Path, request) -> None:
    """Fail unless `frame` (H×W×3) matches the PNG `reference` within the golden tolerances.

    With ``--regenerate-golden`` it writes the reference instead (and skips); on a
    mismatch it leaves ``.actual.png`` and ``.diff.png`` beside it to look at.
    """
    if request.config.getoption("--regenerate-golden"):
        reference.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame).save(reference, optimize=True)
        pytest.skip(f"regenerated {reference.name}")
    assert reference.exists(), f"no golden {reference.name}; run with --regenerate-golden"
    with Image.open(reference) as image:
        expected = np.asarray(image.convert("RGB"))
    assert expected.shape == frame.shape
    difference = np.abs(frame.astype(int) - expected.astype(int))
    over = (difference.max(axis=2) > GOLDEN_PIXEL_TOLERANCE).mean()
    if difference.mean() > GOLDEN_MEAN_TOLERANCE or over > GOLDEN_MAX_PIXELS_OVER:
        Image.fromarray(frame).save(reference.with_suffix(".actual.png"))
        Image.fromarray(np.clip(difference * 4, 0, 255).astype(np.uint8)).save(reference.with_suffix(".diff.png"))
        pytest.fail(
            f"{reference.name}: mean difference {difference.mean():.2f}, "
            f"{over:.2%} of pixels off by > {GOLDEN_PIXEL_TOLERANCE}"
        )
