"""A user transition file next to slides in motion (Ken Burns, build, drift), on GL.

The file's getFromColor / getToColor are the moving slides' frames at that moment: the
GL compositor draws each slide's RGB layers with motion.frag into an RGB target, runs
the file, and converts its frame to YUV. The numpy twin of that RGB frame is
`engine.composite.layers.compose_rgb`; at progress 0 and 1 the file's frame is exactly
the from / to slide, so the GL frame must equal `rgb_to_nv12(compose_rgb(...))` within
the conversion's ±1, and the slide's own motion frame (composited in YUV, as holds and
motions are) closely.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import engine
from engine.colour import nv12_planes, nv12_size, nv12_to_rgb, rgb_to_nv12
from engine.composite import FrameSpec, open_compositor
from engine.composite.cpu import CPUCompositor
from engine.composite.layers import LayerWork, compose_rgb
from engine.composite.planes import prepare_rgb_layers
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import Transition, build_timeline
from engine.usershader import read_user_transition, resolve_user_params, user_transition_key

BLINDS = Path(__file__).parent / "data" / "transitions" / "ShutterBlinds.glsl"
W, H, FPS = 320, 180, 10
PLATFORM = f"{W}x{H}@{FPS}"

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    """A smooth 240×135 picture with three dark vertical lines: where the Ken Burns window is shows in them."""
    path = tmp_path_factory.mktemp("kenburns") / "picture.png"
    y, x = np.mgrid[0:135, 0:240].astype(np.float64)
    pixels = np.stack([60 + 150 * x / 239, 70 + 120 * y / 134, np.full_like(x, 150.0)], axis=-1)
    for column in (60, 120, 180):
        pixels[:, column - 1 : column + 2] *= 0.25
    Image.fromarray(np.rint(pixels).astype(np.uint8), "RGB").save(path)
    return path


def _deck_data(picture, count=1):
    """A Ken Burns image slide, then a bullets slide building during a wipe-like file (from the top)."""
    return {
        "theme": {"background": {"gradient": {"from": "#203040", "to": "#405060", "direction": "vertical"}}},
        "slides": [
            {
                "kind": "image",
                "file": str(picture),
                "fit": "cover",
                "duration": 3,
                "motion": {"ken_burns": {"zoom": [1.0, 1.6], "pan": "right"}},
            },
            {
                "kind": "bullets",
                "title": "Plan",
                "bullets": ["Oats", "Salad", "Fish"],
                "duration": 3,
                "motion": {"build": {"style": "slide", "delay": 0.1, "duration": 1.5}},
                "transition": {"file": str(BLINDS), "duration": 1, "params": {"count": count}},
            },
        ],
    }


@pytest.fixture(scope="module")
def deck(picture):
    return load_deck(_deck_data(picture))


@pytest.fixture
def layered(deck, gl_compositor):
    """A GL compositor that runs user files, with both slides uploaded as layers."""
    gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    output = resolve_output(PLATFORM)
    comp = open_compositor("gl", W, H, glsl_files=[BLINDS])
    rasterizer = SlideRasterizer(deck, output)
    layers = [rasterizer.layers(i) for i in (0, 1)]
    handles = [comp.upload_layers(f"moving-{i}", layer) for i, layer in enumerate(layers)]
    yield comp, layers, handles
    comp.close()


def _transition(deck) -> Transition:
    return next(s for s in build_timeline(deck.timings(), FPS) if isinstance(s, Transition))


def _states(deck, layers, frame: int):
    """The two slides' motion states at `frame` of the video, as the pipeline computes them."""
    timeline = build_timeline(deck.timings(), FPS)
    return [deck.motion(i).state(timeline.slide_time(i, frame), layers[i].count, W, H) for i in (0, 1)]


def _render(comp, spec: FrameSpec) -> np.ndarray:
    comp.render(spec)
    buffer = np.empty(nv12_size(W, H), np.uint8)
    comp.read_nv12(buffer)
    return buffer


def _numpy_rgb(layer, state) -> np.ndarray:
    """The numpy twin of the RGB frame GL feeds the file: motion.frag's formulas on RGB layers."""
    out = np.empty((H, W, 3), np.uint8)
    compose_rgb(out, prepare_rgb_layers(layer, W, H), state, LayerWork(W, channels=3))
    return out


def _numpy_motion_frame(layer, state) -> np.ndarray:
    """The slide's motion frame as the numpy compositor draws holds and motions (in YUV)."""
    cpu = CPUCompositor(W, H)
    return _render(cpu, FrameSpec(cpu.upload_layers("alone", layer), source_state=state))


def _user_frame(comp, handles, states, progress, count=1):
    params = resolve_user_params(read_user_transition(BLINDS), {"count": count})
    spec = FrameSpec(handles[0], handles[1], user_transition_key(BLINDS), progress, params, *states)
    return _render(comp, spec)


def _diff(a, b) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int))


def test_a_deck_with_a_file_between_moving_slides_renders_on_gl(tmp_path, picture, gl_compositor):
    gl_compositor(16, 16)
    (tmp_path / "deck.json").write_text(json.dumps(_deck_data(picture, count=3)))
    target = tmp_path / "moving.mp4"
    report = engine.render(tmp_path / "deck.json", target, platform=PLATFORM)
    assert report.compositor.startswith("gl") and report.frames == 50
    with av.open(str(target)) as container:
        lumas = [f.to_ndarray(format="gray").astype(int) for f in container.decode(video=0)]
    assert len(lumas) == 50
    # Every frame of the transition (20..29) changes: the blinds open and both slides move.
    assert all(np.abs(lumas[f + 1] - lumas[f]).mean() > 0.5 for f in range(19, 30))


def test_progress_0_and_1_give_the_moving_slides_as_numpy_draws_them(deck, layered):
    comp, layers, handles = layered
    transition = _transition(deck)
    for frame in (transition.start, transition.start + 6, transition.end - 1):
        states = _states(deck, layers, frame)
        for progress, side in ((0.0, 0), (1.0, 1)):
            gl = _user_frame(comp, handles, states, progress)
            # The file's input, drawn by numpy and converted: the conversion's ±1 only.
            twin = rgb_to_nv12(_numpy_rgb(layers[side], states[side]))
            assert _diff(gl, twin).max() <= 1
            assert np.count_nonzero(gl != twin) <= gl.size // 1000
            # The slide's own motion frame, composited in YUV as holds and motions are:
            # luma within ±1; chroma within ±2 but at the picture's sharp edges, where the
            # YUV path filters chroma before the Ken Burns window resamples it, not after
            # (measured here: 3 to 5 codes on under 0.5 % of chroma samples).
            alone = _numpy_motion_frame(layers[side], states[side])
            luma, chroma = (_diff(a, b) for a, b in zip(nv12_planes(gl, W, H), nv12_planes(alone, W, H)))
            assert luma.max() <= 1, (frame, progress, luma.max())
            assert np.count_nonzero(chroma > 2) <= chroma.size // 100 and chroma.max() <= 6, (frame, progress)


def test_mid_transition_frames_blend_the_two_moving_slides(deck, layered):
    comp, layers, handles = layered
    frame = _transition(deck).start + 4
    states = _states(deck, layers, frame)
    middle = _user_frame(comp, handles, states, 0.5)
    ends = [rgb_to_nv12(_numpy_rgb(layer, state)) for layer, state in zip(layers, states)]
    assert _diff(middle, ends[0]).max() > 20 and _diff(middle, ends[1]).max() > 20
    # count = 1 is a wipe from the top: the bottom half is the moving from-slide, the top
    # half the moving to-slide (rows near the edge left out).
    y, y_from, y_to = (nv12_planes(a, W, H)[0] for a in (middle, *ends))
    assert _diff(y[H // 2 + 4 :], y_from[H // 2 + 4 :]).max() <= 1
    assert _diff(y[: H // 2 - 4], y_to[: H // 2 - 4]).max() <= 1


def _line_columns(luma_rows: np.ndarray) -> list[int]:
    """Columns of the picture's dark lines in a band of rows: minima well below both sides."""
    profile = np.convolve(luma_rows.mean(axis=0), np.ones(3) / 3, mode="same")
    return [
        x
        for x in range(5, len(profile) - 5)
        if profile[x] == profile[x - 2 : x + 3].min() and profile[x] < min(profile[x - 5], profile[x + 5]) - 20
    ]


def test_the_ken_burns_picture_moves_during_the_transition(picture, gl_compositor):
    """Two frames of the wipe show the picture's lines at other columns in the from-half."""
    gl_compositor(16, 16)
    transition = _transition(load_deck(_deck_data(picture)))
    times = [(transition.start + k) / FPS for k in (1, 5)]
    frames = [engine.render_frame(_deck_data(picture), t, platform=PLATFORM, compositor="gl") for t in times]
    lumas = [frame.astype(float) @ np.array([0.2126, 0.7152, 0.0722]) for frame in frames]
    bands = [luma[H - 40 : H - 4] for luma in lumas]  # the from-half, below the wipe's edge at both times
    columns = [_line_columns(band) for band in bands]
    assert all(len(c) >= 2 for c in columns), columns
    # Zooming in and panning right: the lines spread apart and move left.
    assert columns[0] != columns[1]
    assert columns[1][-1] - columns[1][0] > columns[0][-1] - columns[0][0]
    # And that band is the Ken Burns slide at each time, as the video shows it outside the transition.
    deck = load_deck(_deck_data(picture))
    rasterizer = SlideRasterizer(deck, resolve_output(PLATFORM))
    layer = rasterizer.layers(0)
    timeline = build_timeline(deck.timings(), FPS)
    for t, frame in zip(times, frames):
        state = deck.motion(0).state(timeline.slide_time(0, round(t * FPS)), layer.count, W, H)
        expected = nv12_to_rgb(rgb_to_nv12(_numpy_rgb(layer, state)), W, H)
        assert _diff(frame[H - 40 :], expected[H - 40 :]).max() <= 3


def test_every_motion_reaches_the_file_as_numpy_draws_it(picture, gl_compositor):
    """Drift, builds that slide, rise and fade, a chart that reveals, Ken Burns under a caption."""
    gl_compositor(16, 16)
    file = {"file": str(BLINDS), "duration": 1, "params": {"count": 2}}
    deck = load_deck(
        {
            "theme": {"background": {"gradient": {"from": "#102030", "to": "#506070", "direction": "diagonal"}}},
            "slides": [
                {
                    "kind": "bullets",
                    "title": "Plan",
                    "bullets": ["Oats", "Salad"],
                    "duration": 3,
                    "motion": {"build": {"style": "slide", "delay": 0}, "drift": {"direction": "down"}},
                },
                {
                    "kind": "text",
                    "text": "Eat well",
                    "style": "quote",
                    "attribution": "Us",
                    "duration": 3,
                    "motion": {"build": {"style": "rise", "delay": 0.2, "easing": "ease-out-back"}},
                    "transition": file,
                },
                {
                    "kind": "chart",
                    "title": "Kcal",
                    "duration": 3,
                    "transition": file,
                    "chart": {
                        "type": "bar",
                        "labels": ["Mon", "Tue", "Wed"],
                        "values": [1850, 2100, 1720],
                        "reveal": 1.5,
                    },
                },
                {
                    "kind": "image",
                    "file": str(picture),
                    "fit": "contain",
                    "caption": "Plate",
                    "duration": 3,
                    "motion": {"ken_burns": {"zoom": [1.2, 1.0], "pan": "up"}, "build": {"style": "fade", "delay": 0}},
                    "transition": file,
                },
            ],
        }
    )
    output = resolve_output(PLATFORM)
    timeline = build_timeline(deck.timings(), FPS)
    rasterizer = SlideRasterizer(deck, output)
    layers = [rasterizer.layers(i) for i in range(4)]
    comp = open_compositor("gl", W, H, glsl_files=[BLINDS])
    try:
        handles = [comp.upload_layers(f"every-{i}", layer) for i, layer in enumerate(layers)]
        params = resolve_user_params(read_user_transition(BLINDS), {"count": 2})
        transitions = [s for s in timeline if isinstance(s, Transition)]
        assert len(transitions) == 3
        worst, differing, compared = 0, 0, 0
        for segment in transitions:
            pair = (segment.from_slide, segment.to_slide)
            for frame in (segment.start, segment.end - 1):
                states = [deck.motion(i).state(timeline.slide_time(i, frame), layers[i].count, W, H) for i in pair]
                for progress, side in ((0.0, 0), (1.0, 1)):
                    spec = FrameSpec(
                        handles[pair[0]], handles[pair[1]], user_transition_key(BLINDS), progress, params, *states
                    )
                    gl = _render(comp, spec)
                    twin = rgb_to_nv12(_numpy_rgb(layers[pair[side]], states[side]))
                    worst = max(worst, int(_diff(gl, twin).max()))
                    differing += np.count_nonzero(gl != twin)
                    compared += gl.size
        assert worst <= 1 and differing <= compared // 1000, (worst, differing, compared)
    finally:
        comp.close()
