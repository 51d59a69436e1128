"""`standard` keeps every region of the picture: a moving photo and a still gradient.

A short deck (a gradient title slide, then a detailed picture under Ken Burns) is
rendered at `standard` through the engine; frames are decoded and their luma is
compared, region by region, with what the compositor made for them. The lowest of
x264's defaults at CRF 23 (the old `standard`) leaves the moving picture at ~40 dB
here; the preset must keep ≥ 42 dB in each region.
"""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

import engine
from engine.layout import ImagePlacement
from engine.pipeline import render_still_nv12
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck

PLATFORM = "640x360@30"
FLOOR_DB = 42.0
BLOCK = 8


def detailed_picture(path) -> None:
    """A seeded photo stand-in: soft colour fields, hard-edged shapes and lines, grain."""
    rng = np.random.default_rng(11)
    h, w = 720, 960
    fields = rng.integers(40, 220, (6, 8, 3)).astype(np.uint8)
    image = Image.fromarray(fields).resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        size = int(rng.integers(8, 90))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + size, y + size), fill=colour)
        else:
            draw.rectangle((x, y, x + size, y + size // 2), outline=colour, width=3)
    for _ in range(40):
        points = [tuple(int(v) for v in rng.integers(0, (w, h))) for _ in range(2)]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), width=2)
    pixels = np.asarray(image).astype(np.int16) + rng.normal(0, 6, (h, w, 1)).astype(np.int16)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quality")
    detailed_picture(folder / "photo.png")
    deck = load_deck(
        {
            "title": "quality",
            "theme": {"background": {"gradient": {"from": "#1b2a41", "to": "#0f6b5c", "direction": "diagonal"}}},
            "defaults": {"transition": {"name": "fade", "duration": 0.5}},
            "slides": [
                {"kind": "title", "title": "Regions", "subtitle": "a gradient that must not band", "duration": 2},
                {
                    "kind": "image",
                    "file": str(folder / "photo.png"),
                    "fit": "contain",
                    "duration": 3,
                    "motion": {"ken_burns": {"zoom": [1.0, 1.15], "pan": "right"}},
                },
            ],
        }
    )
    path = folder / "quality.mp4"
    engine.render(deck, path, platform=PLATFORM, quality="standard", compositor="cpu")
    output = resolve_output(PLATFORM, "standard")
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="yuv420p")[: output.height] for f in container.decode(video=0)]
    return deck, output, decoded


def _expected_luma(deck, output, frame: int) -> np.ndarray:
    nv12 = render_still_nv12(deck, output, frame / output.fps, compositor="cpu")
    return nv12[: output.width * output.height].reshape(output.height, output.width)


def _psnr(decoded: np.ndarray, expected: np.ndarray, mask: np.ndarray) -> float:
    error = (decoded.astype(np.float64) - expected.astype(np.float64))[mask]
    mse = float(np.mean(error**2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _smooth_blocks(luma: np.ndarray) -> np.ndarray:
    """Pixel mask of the 8×8 blocks with no neighbouring samples more than 3 codes apart."""
    y = luma.astype(np.int16)
    step = np.zeros_like(y)
    step[:, :-1] = np.abs(np.diff(y, axis=1))
    step[:-1] = np.maximum(step[:-1], np.abs(np.diff(y, axis=0)))
    h, w = y.shape
    smooth = step.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).max(axis=(1, 3)) <= 3
    return np.repeat(np.repeat(smooth, BLOCK, axis=0), BLOCK, axis=1)


def test_moving_picture_keeps_42_db_on_every_ken_burns_frame_sampled(rendered):
    deck, output, decoded = rendered
    box = next(i.rect for i in SlideRasterizer(deck, output).layout(1).items if isinstance(i, ImagePlacement))
    mask = np.zeros((output.height, output.width), bool)
    mask[box[1] : box[3], box[0] : box[2]] = True
    # Slide 1 is alone on screen from 2.0 s; keyframes fall at 0, 2 and 4 s, so these
    # are P- and B-frames, where the old preset starved the motion.
    frames = [66, 75, 89, 100, 111, 118]
    worst = min((_psnr(decoded[f], _expected_luma(deck, output, f), mask), f) for f in frames)
    assert worst[0] >= FLOOR_DB, f"picture at frame {worst[1]}: {worst[0]:.1f} dB, below {FLOOR_DB} dB"


def test_gradient_hold_keeps_42_db_and_no_contour_steps(rendered):
    deck, output, decoded = rendered
    frame = 40  # slide 0 held (not a keyframe), before the fade starts at 1.5 s
    expected = _expected_luma(deck, output, frame)
    mask = _smooth_blocks(expected)
    assert mask.mean() > 0.5  # most of a title slide is background
    assert _psnr(decoded[frame], expected, mask) >= FLOOR_DB
    # A contour step is a whole block off by a code or more; the dither alone is ±½.
    error = decoded[frame].astype(np.float64) - expected
    h, w = error.shape
    block_means = error.reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).mean(axis=(1, 3))
    smooth = mask[::BLOCK, ::BLOCK]
    assert np.abs(block_means[smooth]).max() < 1.0


def _x264_options(path) -> str:
    """The option string x264 writes into its SEI on the first frame."""
    data = path.read_bytes()
    start = data.index(b"options: ") + len(b"options: ")
    return data[start : data.index(b"\x00", start)].decode("ascii", "replace")


def test_standard_reaches_x264_with_its_aq_psy_and_crf(tmp_path):
    from engine.encode import EncodeSettings
    from engine.encode.pyav import PyAVEncoder

    output = resolve_output(PLATFORM, "standard")
    encoder = PyAVEncoder(EncodeSettings.from_output(output))
    encoder.open(tmp_path / "grey.mp4")
    encoder.encode_repeated(np.full(output.width * output.height * 3 // 2, 128, np.uint8), 0, 2)
    encoder.close()
    options = set(_x264_options(tmp_path / "grey.mp4").split())
    assert {f"crf={output.crf:.1f}", "aq=3:0.60", "psy_rd=0.00:0.00", "rc_lookahead=5"} <= options
    assert f"vbv_maxrate={output.max_bitrate // 1000}" in options
