"""Ken Burns follows its easing: measured on a decoded render, through a marker's path.

A dark picture with one bright dot is zoomed and panned; in every decoded frame the
dot's centre (a luma-weighted centroid) is found and compared with the path the easing
asks for: from where the start state shows the dot to where the end state shows it,
the fraction of the way covered by frame k being easing(k / frames). With the zoom and
the view's offset both moving with the eased fraction, every point of the picture
travels a straight line on screen at the easing's speed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine import render
from engine.easing import parse_easing
from engine.motion import KenBurns, SlideMotion
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck

from .helpers import decode_frames, probe

WIDTH, HEIGHT, FPS, DURATION = 320, 180, 25, 2.0
FRAMES = round(DURATION * FPS)
ZOOM = (1.0, 1.3)
# Centroids on a decoded x264 frame: a few tenths of a pixel of noise at most.
TOLERANCE_PX = 0.35


@pytest.fixture(scope="module")
def dot_picture(tmp_path_factory):
    """A 640×360 near-black picture with one white dot (radius 10) at about (30 %, 30 %)."""
    path = tmp_path_factory.mktemp("kenburns") / "dot.png"
    y, x = np.mgrid[0:360, 0:640]
    dot = (x - 0.3 * 640 + 0.5) ** 2 + (y - 0.3 * 360 + 0.5) ** 2 <= 10**2
    pixels = np.where(dot, 255, 16).astype(np.uint8)
    Image.fromarray(np.stack([pixels] * 3, axis=-1), "RGB").save(path)
    return path


def _deck(picture, easing):
    return {
        "theme": {"background": "#000000"},
        "slides": [
            {
                "kind": "image",
                "file": str(picture),
                "fit": "cover",
                "duration": DURATION,
                "motion": {"ken_burns": {"zoom": list(ZOOM), "pan": "right", "easing": easing}},
            },
        ],
    }


def _centroid(luma: np.ndarray) -> np.ndarray:
    """(x, y) of the bright dot in continuous coordinates (a pixel's centre at +0.5)."""
    weight = np.clip(luma.astype(float) - 128, 0, None)  # the dot only: the picture is ~16
    assert weight.sum() > 0, "no marker in the frame"
    y, x = np.mgrid[0 : luma.shape[0], 0 : luma.shape[1]]
    return np.array([(weight * x).sum(), (weight * y).sum()]) / weight.sum() + 0.5


def _decoded_path(tmp_path, picture, easing) -> np.ndarray:
    """The dot's centre in every decoded frame of a one-slide Ken Burns render (cpu compositor)."""
    (tmp_path / "deck.json").write_text(json.dumps(_deck(picture, easing)))
    target = tmp_path / "out.mp4"
    render(tmp_path / "deck.json", target, platform=f"{WIDTH}x{HEIGHT}@{FPS}", quality="high", compositor="cpu")
    assert probe(target).frames == FRAMES
    frames = decode_frames(target, set(range(FRAMES)))
    return np.array([_centroid(frames[k].mean(axis=2)) for k in range(FRAMES)])


def _ideal_path(picture, easing) -> np.ndarray:
    """Where the easing puts the dot in frame k, from the start and end states only."""
    deck = load_deck(_deck(picture, easing))
    layers = SlideRasterizer(deck, resolve_output(f"{WIDTH}x{HEIGHT}@{FPS}")).layers(0)
    back = _centroid(layers.back.mean(axis=2))  # the dot on the back layer
    height, width = layers.back.shape[:2]
    motion = deck.motion(0)
    ends = []
    for t in (0.0, DURATION):
        sx, ox, sy, oy = motion.state(t, 0, WIDTH, HEIGHT).window.back_map(layers.region, width, height)
        ends.append(((back[0] - ox) / sx, (back[1] - oy) / sy))  # back = frame · s + o
    start, end = np.array(ends)
    curve = parse_easing(easing)
    eased = np.array([curve(k / FRAMES) for k in range(FRAMES)])  # frame k shows t = k / fps
    return start + eased[:, None] * (end - start)


def test_linear_ken_burns_moves_the_picture_one_way_at_constant_speed(tmp_path, dot_picture):
    path = _decoded_path(tmp_path, dot_picture, "linear")
    ideal = _ideal_path(dot_picture, "linear")
    assert ideal[-1, 0] < ideal[0, 0] - 40  # the camera pans right: the dot travels left
    for axis in (0, 1):
        steps = np.diff(path[:, axis])
        assert np.all(steps < 0), f"axis {axis} does not move one way: steps {np.round(steps, 2)}"
        ideal_step = np.diff(ideal[:, axis]).mean()
        assert np.abs(steps - ideal_step).max() < 2 * TOLERANCE_PX, f"axis {axis} steps {np.round(steps, 2)}"
    assert np.abs(path - ideal).max() < TOLERANCE_PX, f"x off by {np.round(path[:, 0] - ideal[:, 0], 2)}"


def test_ease_in_out_ken_burns_is_slow_fast_slow_along_its_easing(tmp_path, dot_picture):
    path = _decoded_path(tmp_path, dot_picture, "ease-in-out")
    ideal = _ideal_path(dot_picture, "ease-in-out")
    speed = -np.diff(path[:, 0])
    assert np.all(speed > -0.1), f"moves back: {np.round(speed, 2)}"  # a still step may read a hair back
    third = len(speed) // 3
    start, middle, end = speed[:third].mean(), speed[third:-third].mean(), speed[-third:].mean()
    assert middle > 2.5 * max(start, end), f"speeds: start {start:.2f}, middle {middle:.2f}, end {end:.2f} px/frame"
    assert np.abs(path - ideal).max() < TOLERANCE_PX, f"x off by {np.round(path[:, 0] - ideal[:, 0], 2)}"


@pytest.mark.parametrize("easing", ["linear", "ease-in-out", "ease-out-back", [0.3, -0.4, 0.7, 1.4]])
@pytest.mark.parametrize(
    "zoom, pan", [((1.0, 1.3), "right"), ((1.5, 1.0), "up"), ((1.2, 1.6), "left"), ((1.0, 1.25), "none")]
)
def test_ken_burns_window_is_affine_in_the_eased_fraction(easing, zoom, pan):
    """On screen a picture point p sits at zoom · (p − centre) + ½: both terms mix linearly with the easing."""
    from engine.spec import KenBurnsSpec

    curve = KenBurnsSpec(easing=easing).motion().easing
    motion = SlideMotion(1.0, ken_burns=KenBurns(*zoom, pan, curve))
    first, last = motion.state(0.0, 0, 64, 36).window, motion.state(1.0, 0, 64, 36).window
    for t in np.linspace(0, 1, 41):
        e = curve(float(t))
        w = motion.state(float(t), 0, 64, 36).window
        if 0 <= e <= 1:
            assert 1 / w.size == pytest.approx((1 - e) / first.size + e / last.size, abs=1e-9)
            for a, b, c in ((first.cx, last.cx, w.cx), (first.cy, last.cy, w.cy)):
                assert c / w.size == pytest.approx((1 - e) * a / first.size + e * b / last.size, abs=1e-9)
        # The view never leaves the picture, overshooting curves included.
        assert w.size <= 1
        assert w.cx - w.size / 2 >= -1e-9 and w.cx + w.size / 2 <= 1 + 1e-9
        assert w.cy - w.size / 2 >= -1e-9 and w.cy + w.size / 2 <= 1 + 1e-9
