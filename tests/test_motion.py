"""Motion inside a slide: the arithmetic, the spec, the layers, both compositors, and a decoded render."""

from __future__ import annotations

import json
from dataclasses import replace

import av
import numpy as np
import pytest
from PIL import Image

from engine import render
from engine.colour import nv12_size
from engine.composite import FrameSpec
from engine.composite.cpu import CPUCompositor
from engine.errors import SpecError
from engine.motion import Build, Drift, KenBurns, SlideMotion, Window, drift_back_size
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import Hold, Motion, SlideTiming, build_timeline

GRADIENT = {"gradient": {"from": "#102030", "to": "#506070", "direction": "diagonal"}}


# --- the arithmetic ---------------------------------------------------------------------


def test_windows_merge_and_stay_inside_the_slide():
    motion = SlideMotion(4.0, build=Build(delay=0.5, duration=1.0))
    assert motion.windows == ((0.5, 1.5),)
    assert SlideMotion(4.0, ken_burns=KenBurns(), build=Build(delay=0.5)).windows == ((0.0, 4.0),)
    assert SlideMotion(4.0).windows == ()


def test_ken_burns_zooms_from_and_to_and_pans_the_named_way():
    motion = SlideMotion(2.0, ken_burns=KenBurns(1.0, 1.25, "left"))
    start, end = motion.state(0, 0, 64, 36).window, motion.state(2.0, 0, 64, 36).window
    assert start == Window(0.5, 0.5, 1.0)
    assert end.size == pytest.approx(0.8)
    assert end.cx == pytest.approx(0.5 - 0.1)  # the camera ends at the left margin
    assert end.cy == pytest.approx(0.5)
    # The view never leaves the picture.
    for t in np.linspace(0, 2, 9):
        w = motion.state(float(t), 0, 64, 36).window
        assert w.cx - w.size / 2 >= -1e-9 and w.cx + w.size / 2 <= 1 + 1e-9


def test_drift_travels_the_margin_at_constant_speed():
    motion = SlideMotion(3.0, drift=Drift(0.1, "up"))
    assert drift_back_size(0.1, 64, 36) == (72, 40)
    centres = [motion.state(t, 0, 64, 36).window.cy for t in (0.0, 1.5, 3.0)]
    margin = (1 - 36 / 40) / 2  # (the back's margin: 4 of its 40 rows)
    assert centres == pytest.approx([0.5 + margin, 0.5, 0.5 - margin])


@pytest.mark.parametrize("amount", [0.06, 0.08])
@pytest.mark.parametrize("direction", ["left", "right", "up", "down"])
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920), (1080, 1350), (64, 36)])
def test_a_drift_only_translates_its_back_and_rests_on_whole_texels_across_its_travel(direction, size, amount):
    """The window is the frame's size in back texels (scale exactly 1 in float32, as the
    resamplers take it), so nothing zooms; across the direction of travel the offset is
    a whole number of texels, in chroma too (an even number in luma): those rows (or
    columns) are copied, never blended."""
    width, height = size
    back = drift_back_size(amount, width, height)
    assert all(margin % 4 == 0 for margin in (back[0] - width, back[1] - height))
    motion = SlideMotion(4.0, drift=Drift(amount, direction))
    moving_x = direction in ("left", "right")
    for t in np.linspace(0.0, 4.0, 7):
        sx, ox, sy, oy = (
            np.float32(v)
            for v in motion.state(float(t), 0, width, height).window.back_map((0, 0, width, height), *back)
        )
        assert sx == 1 and sy == 1
        still = oy if moving_x else ox
        assert still == (back[1] - height if moving_x else back[0] - width) // 2
        assert still % 2 == 0  # (chroma's offset, half of it, is whole too)
    first, last = (motion.state(t, 0, width, height).window.back_map((0, 0, width, height), *back) for t in (0.0, 4.0))
    moved = (first[1] - last[1], first[3] - last[3])
    sign = {"left": (1, 0), "right": (-1, 0), "up": (0, 1), "down": (0, -1)}[direction]
    # The whole margin, in the direction the view travels (a view moving left shows the back's left side last).
    assert moved == pytest.approx((sign[0] * (back[0] - width), sign[1] * (back[1] - height)))


def test_build_items_enter_in_order_with_even_offsets():
    motion = SlideMotion(5.0, build=Build("rise", delay=1.0, duration=1.0))
    before = motion.state(1.0, 3, 1920, 1080).items
    assert all(item.opacity == 0 and item.dy > 0 for item in before)
    middle = motion.state(1.5, 3, 1920, 1080).items
    assert middle[0].opacity > middle[1].opacity > middle[2].opacity
    assert all(item.dy % 2 == 0 and item.dx == 0 for item in middle)
    after = motion.state(2.0, 3, 1920, 1080).items
    assert all(item.opacity == 1 and item.dx == item.dy == 0 for item in after)
    slide = SlideMotion(5.0, build=Build("slide", duration=1.0)).state(0.2, 2, 1920, 1080).items
    assert slide[0].dx < 0 and slide[0].dx % 2 == 0 and slide[0].dy == 0


def test_back_map_puts_the_window_on_the_region():
    sx, ox, sy, oy = Window(0.5, 0.5, 0.5).back_map((10, 20, 110, 70), 200, 100)
    # The region's left edge lands on the window's left edge, its right on the right.
    assert 10 * sx + ox == pytest.approx(50) and 110 * sx + ox == pytest.approx(150)
    assert 20 * sy + oy == pytest.approx(25) and 70 * sy + oy == pytest.approx(75)


# --- the timeline -------------------------------------------------------------------------


def test_motion_frames_are_those_strictly_inside_a_window():
    slides = [
        SlideTiming(2.0, motion=((0.5, 1.0),)),
        SlideTiming(2.0, "fade", 0.5, motion=((0.0, 2.0),)),
    ]
    timeline = build_timeline(slides, 10)
    kinds = [(type(s).__name__, s.start, s.end) for s in timeline]
    assert kinds == [
        ("Hold", 0, 6),  # frames 0..5: t <= 0.5 shows the state at 0.5
        ("Motion", 6, 10),  # t in (0.5, 1.0)
        ("Hold", 10, 15),
        ("Transition", 15, 20),
        ("Motion", 20, 35),
    ]
    assert timeline.frame_count == 35
    assert timeline.slide_time(1, 20) == pytest.approx(0.5)


# --- the spec -----------------------------------------------------------------------------


def _deck(slides, **extra):
    return {"theme": {"background": GRADIENT}, "slides": slides, **extra}


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """An opaque 96×64 photo-like picture with detail everywhere (Ken Burns shows in it)."""
    path = tmp_path_factory.mktemp("motion") / "photo.png"
    y, x = np.mgrid[0:64, 0:96]
    pixels = np.stack([(x * 37 + y * 11) % 256, (x * 5 + y * 29) % 256, (x * y) % 256], axis=-1)
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(path)
    return path


@pytest.mark.parametrize(
    "slide, path, words",
    [
        ({"kind": "title", "title": "A", "motion": {"ken_burns": True}}, "slides[0].motion.ken_burns", "image slide"),
        (
            {"kind": "title", "title": "A", "duration": 1, "motion": {"build": {"duration": 2}}},
            "slides[0].motion.build",
            "ends after",
        ),
        ({"kind": "title", "title": "A", "motion": {"bild": True}}, "slides[0].motion.bild", "did you mean 'build'"),
        (
            {"kind": "title", "title": "A", "motion": {"build": {"style": "bounce"}}},
            "slides[0].motion.build.style",
            "'rise'",
        ),
        (
            {"kind": "title", "title": "A", "motion": {"drift": {"amount": 2}}},
            "slides[0].motion.drift.amount",
            "<= 0.3",
        ),
    ],
)
def test_bad_motion_is_a_one_line_spec_error_with_its_path(slide, path, words):
    with pytest.raises(SpecError) as caught:
        load_deck(_deck([slide]))
    assert caught.value.path == path
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_drift_over_a_flat_colour_is_refused_on_the_slide_and_skipped_from_defaults():
    slide = {"kind": "title", "title": "A", "background": "#202020"}
    with pytest.raises(SpecError, match="flat colour") as caught:
        load_deck({"slides": [{**slide, "motion": {"drift": True}}]})
    assert caught.value.path == "slides[0].motion.drift"
    deck = load_deck({"defaults": {"motion": {"drift": True}}, "slides": [slide]})
    assert deck.motion(0) is None


def test_slide_motion_overrides_defaults_key_by_key(photo):
    deck = load_deck(
        _deck(
            [
                {"kind": "bullets", "bullets": ["a", "b"]},
                {"kind": "bullets", "bullets": ["a"], "motion": {"build": False}},
                {"kind": "image", "file": str(photo)},
                {"kind": "title", "title": "T", "motion": False},
            ],
            defaults={"motion": {"build": {"style": "fade"}, "drift": True, "ken_burns": True}},
        )
    )
    # The first slide starts complete: the default build is skipped there, drift is not.
    assert deck.motion(0).build is None and deck.motion(0).drift is not None
    assert deck.motion(1).build is None and deck.motion(1).drift is not None
    # Ken Burns on the picture; drift gives way to it; no caption, nothing to build.
    assert deck.motion(2).ken_burns is not None and deck.motion(2).drift is None and deck.motion(2).build is None
    assert deck.motion(3) is None
    # The build waits for the transition into the slide by default.
    assert deck.motion(1).duration == 5.0
    timings = deck.timings()
    assert timings[0].motion == ((0.0, 5.0),) and timings[3].motion == ()


# --- layers ------------------------------------------------------------------------------


def _output():
    return resolve_output("320x180@10")


def test_bullets_build_one_item_per_bullet_in_disjoint_bands():
    deck = load_deck(
        _deck([{"kind": "bullets", "title": "Day", "bullets": ["one", "two", "three"], "motion": {"build": True}}])
    )
    layers = SlideRasterizer(deck, _output()).layers(0)
    assert layers.count == 3
    rows = layers.rows
    # Each item owns one contiguous band, in order, and its pixels lie in its band.
    for number in (1, 2, 3):
        band = np.flatnonzero(rows == number)
        assert band.size and np.all(np.diff(band) == 1)
    assert np.all(np.diff(rows[rows > 0].astype(int)) >= 0)
    ink = layers.items[..., 3].any(axis=1)
    assert not np.any(ink & (rows == 0))
    # The heading stays in the back layer, and the bullets are not there.
    assert layers.static is None and layers.back.shape == (180, 320, 3)


def test_ken_burns_on_an_opaque_picture_moves_inside_its_frame(photo):
    deck = load_deck(
        _deck([{"kind": "image", "file": str(photo), "fit": "contain", "motion": {"ken_burns": {"zoom": [1, 1.5]}}}])
    )
    rasterizer = SlideRasterizer(deck, _output())
    layers = rasterizer.layers(0)
    left, top, right, bottom = layers.region
    assert (right - left, bottom - top) != (320, 180)  # the picture's rect, not the frame
    # Drawn at the closest zoom, so zooming in does not magnify texels.
    assert layers.back.shape[1] == pytest.approx(1.5 * (right - left), abs=2)
    alpha = layers.static[..., 3]
    assert alpha[(top + bottom) // 2, (left + right) // 2] == 0  # a hole where the picture shows
    assert alpha[5, 5] == 255


# --- both compositors ------------------------------------------------------------------------


def _moving_deck(photo, slides=None):
    return load_deck(
        _deck(
            slides
            or [
                {
                    "kind": "image",
                    "file": str(photo),
                    "fit": "cover",
                    "caption": "Plate",
                    "duration": 2,
                    "motion": {"ken_burns": {"zoom": [1.0, 1.3], "pan": "right"}, "build": True},
                },
                {
                    "kind": "bullets",
                    "title": "Plan",
                    "bullets": ["Oats", "Salad", "Fish"],
                    "duration": 2,
                    "motion": {"build": {"style": "slide"}, "drift": {"direction": "down"}},
                },
                {
                    "kind": "text",
                    "text": "Eat well",
                    "style": "quote",
                    "attribution": "Us",
                    "duration": 2,
                    "motion": {"build": {"style": "rise", "easing": "ease-out-back"}},
                },
            ]
        )
    )


def _frames(compositor, deck, output, times):
    """NV12 frames at slide-local `times` of each slide, drawn by `compositor`."""
    rasterizer = SlideRasterizer(deck, output)
    buffer = np.empty(nv12_size(output.width, output.height), dtype=np.uint8)
    found = []
    for index in range(len(deck.slides)):
        layers = rasterizer.layers(index)
        handle = compositor.upload_layers(f"motion-test-{index}", layers)
        motion = deck.motion(index)
        for t in times:
            compositor.render(
                FrameSpec(handle, source_state=motion.state(t, layers.count, output.width, output.height))
            )
            compositor.read_nv12(buffer)
            found.append(buffer.copy())
        compositor.release(handle)
    return found


@pytest.mark.gl
def test_gl_and_numpy_draw_moving_slides_alike(gl_compositor, photo):
    """The stated tolerance: within 1 code value everywhere (on llvmpipe, identical)."""
    output = _output()
    deck = _moving_deck(photo)
    times = (0.0, 0.3, 0.55, 0.9, 1.4, 2.0)
    cpu = _frames(CPUCompositor(output.width, output.height), deck, output, times)
    compositor = gl_compositor(output.width, output.height)
    gl = _frames(compositor, deck, output, times)
    for a, b in zip(cpu, gl):
        difference = np.abs(a.astype(int) - b.astype(int))
        assert difference.max() <= 1
        assert np.count_nonzero(difference) <= a.size // 10_000
        if "llvmpipe" in compositor.renderer:  # the back layer's bilinear is integer: exact
            assert np.array_equal(a, b), np.argwhere(a != b)[:5]
    assert not gl_compositor.errors()


@pytest.mark.parametrize("make", ["cpu", pytest.param("gl", marks=pytest.mark.gl)])
def test_a_transition_blends_two_slides_mid_motion(make, gl_compositor, photo):
    output = _output()
    deck = _moving_deck(photo)
    compositor = (
        CPUCompositor(output.width, output.height) if make == "cpu" else gl_compositor(output.width, output.height)
    )
    rasterizer = SlideRasterizer(deck, output)
    layers = [rasterizer.layers(i) for i in (0, 1)]
    handles = [compositor.upload_layers(f"blend-{i}", layer) for i, layer in enumerate(layers)]
    states = [deck.motion(i).state(t, layers[i].count, 320, 180) for i, t in ((0, 1.8), (1, 0.2))]
    frames = []
    for progress in (0.0, 0.5, 1.0):
        compositor.render(FrameSpec(handles[0], handles[1], "fade", progress, {}, states[0], states[1]))
        buffer = np.empty(nv12_size(320, 180), dtype=np.uint8)
        compositor.read_nv12(buffer)
        frames.append(buffer)
    alone = []
    for handle, state in zip(handles, states):
        compositor.render(FrameSpec(handle, source_state=state))
        buffer = np.empty(nv12_size(320, 180), dtype=np.uint8)
        compositor.read_nv12(buffer)
        alone.append(buffer)
    assert np.array_equal(frames[0], alone[0]) and np.array_equal(frames[2], alone[1])
    middle = (alone[0].astype(int) + alone[1].astype(int)) / 2
    assert np.abs(frames[1] - middle).max() <= 1
    for handle in handles:
        compositor.release(handle)


def test_a_layered_slide_in_one_state_is_drawn_once_and_kept_until_released(photo, monkeypatch):
    """During a fade between two layered slides that do not move, each is drawn once; the
    frames are those of a compositor that keeps nothing, and a release lets them go."""
    from engine.composite import cpu

    output = _output()
    deck = _moving_deck(photo)
    rasterizer = SlideRasterizer(deck, output)
    layers = [rasterizer.layers(i) for i in (0, 1)]
    states = [deck.motion(i).state(t, layers[i].count, 320, 180) for i, t in ((0, 1.8), (1, 0.2))]
    drawn = []
    real = cpu.compose_plane
    monkeypatch.setattr(cpu, "compose_plane", lambda out, *args: (drawn.append(out.shape), real(out, *args))[1])

    def fade(compositor, progresses):
        handles = [compositor.upload_layers(f"s{i}", layer) for i, layer in enumerate(layers)]
        frames = []
        for progress in progresses:
            compositor.render(FrameSpec(handles[0], handles[1], "fade", progress, {}, states[0], states[1]))
            buffer = np.empty(nv12_size(320, 180), dtype=np.uint8)
            compositor.read_nv12(buffer)
            frames.append(buffer)
        return compositor, handles, frames

    compositor, handles, kept = fade(CPUCompositor(320, 180), (0.25, 0.5, 0.75))
    assert len(drawn) == 2 * 2  # two slides, a luma and a chroma plane each: once
    # Each frame by a compositor of its own, which has nothing kept to reuse.
    fresh = [fade(CPUCompositor(320, 180), (progress,))[2][0] for progress in (0.25, 0.5, 0.75)]
    assert len(drawn) == 2 * 2 * 4
    for a, b in zip(kept, fresh):
        assert np.array_equal(a, b)
    # With room for two frames, states that come and go evict the oldest, never a frame in use.
    monkeypatch.setattr(cpu, "_DRAWN_BYTES", 0)
    small = CPUCompositor(320, 180)
    pair = [small.upload_layers(f"s{i}", layer) for i, layer in enumerate(layers)]
    for t in (1.8, 0.6, 1.8, 1.2, 0.6):
        source = deck.motion(0).state(t, layers[0].count, 320, 180)
        spec = FrameSpec(pair[0], pair[1], "fade", 0.5, {}, source, states[1])
        small.render(spec)
        got = np.empty(nv12_size(320, 180), dtype=np.uint8)
        small.read_nv12(got)
        alone = CPUCompositor(320, 180)
        alone.render(
            replace(spec, source=alone.upload_layers("a", layers[0]), target=alone.upload_layers("b", layers[1]))
        )
        expected = np.empty_like(got)
        alone.read_nv12(expected)
        assert np.array_equal(got, expected), t
    assert len(small._drawn) == 2
    compositor.release(handles[0])
    assert all(key[0] != handles[0] for key in compositor._drawn)


def test_a_slide_in_motion_keeps_one_drawn_frame_and_never_draws_over_the_other(photo):
    """Motion only moves on, so a layered slide's next state is drawn into its last one's
    buffer: a slide on screen holds one drawn frame, not the cache's room of them. One
    slide in two states in one frame (a slide repeating the one before it) keeps both,
    and every frame is the one a compositor that keeps nothing draws."""
    deck = _moving_deck(photo)
    layers = SlideRasterizer(deck, _output()).layers(0)
    motion = deck.motion(0)

    def drawn(compositor, spec):
        compositor.render(spec)
        out = np.empty(nv12_size(320, 180), dtype=np.uint8)
        compositor.read_nv12(out)
        return out

    def alone(spec):
        fresh = CPUCompositor(320, 180)
        handle = fresh.upload_layers("s", layers)
        return drawn(fresh, replace(spec, source=handle, target=None if spec.target is None else handle))

    compositor = CPUCompositor(320, 180)
    handle = compositor.upload_layers("s", layers)
    states = [motion.state(t, layers.count, 320, 180) for t in (0.2, 0.6, 1.0, 1.4, 1.8)]
    assert len(set(states)) == len(states)  # (the camera moves: a new state each time)
    for state in states:
        spec = FrameSpec(handle, source_state=state)
        assert np.array_equal(drawn(compositor, spec), alone(spec))
        assert len(compositor._drawn) == 1
    for a, b in ((states[1], states[3]), (states[2], states[4])):
        spec = FrameSpec(handle, handle, "fade", 0.5, {}, a, b)
        assert np.array_equal(drawn(compositor, spec), alone(spec))
        assert len(compositor._drawn) == 2


def test_a_layered_frame_needs_its_state(photo):
    output = _output()
    deck = _moving_deck(photo)
    compositor = CPUCompositor(320, 180)
    handle = compositor.upload_layers("x", SlideRasterizer(deck, output).layers(1))
    with pytest.raises(ValueError, match="MotionState"):
        compositor.render(FrameSpec(handle))


# --- a decoded render -----------------------------------------------------------------------


def _luma_frames(path):
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.key_frame, frame.to_ndarray(format="gray").astype(np.int16)


def test_a_render_moves_where_the_timeline_says_and_holds_elsewhere(tmp_path, photo):
    deck_data = _deck(
        [
            {
                "kind": "image",
                "file": str(photo),
                "fit": "cover",
                "duration": 2.0,
                "motion": {"ken_burns": {"zoom": [1.0, 1.4]}},
            },
            {
                "kind": "bullets",
                "title": "Plan",
                "bullets": ["Oats", "Salad", "Fish"],
                "duration": 3.0,
                "transition": "cut",
                "motion": {"build": {"delay": 0.5, "duration": 1.0}},
            },
        ]
    )
    (tmp_path / "deck.json").write_text(json.dumps(deck_data))
    target = tmp_path / "out.mp4"
    report = render(tmp_path / "deck.json", target, platform="320x180@10", quality="high")
    deck = load_deck(tmp_path / "deck.json")
    timeline = build_timeline(deck.timings(), 10)
    assert report.frames == timeline.frame_count == 50
    kinds = {}
    for segment in timeline:
        for frame in range(segment.start, segment.end):
            kinds[frame] = (type(segment), frame == segment.start)
    previous = None
    moved, held = 0, 0
    for number, (key, luma) in enumerate(_luma_frames(target)):
        if previous is not None:
            change = np.abs(luma - previous).mean()
            kind, first = kinds[number]
            if kind is Motion:
                assert change > 0, f"frame {number} of a motion does not move"
                moved += 1
            elif kind is Hold and not first and not key:
                # The composited frames of a hold are identical (one frame encoded N
                # times; the test below checks them exactly); x264 still refines a
                # repeated frame in a few spots after a motion.
                assert np.count_nonzero(luma != previous) < luma.size // 100, f"frame {number} of a hold changes"
                held += 1
        previous = luma
    assert moved >= 25 and held >= 10
    assert report.composited_frames == sum(1 if isinstance(s, Hold) else s.frames for s in timeline)


def test_stills_are_identical_inside_a_hold_and_differ_inside_a_motion(photo):
    from engine.pipeline import render_still_nv12

    deck = _moving_deck(photo)
    output = _output()
    # Slide 2's build (after a 0.5 s fade in) ends 1.5 s into it: it holds after that.
    start = build_timeline(deck.timings(), 10).slide_starts[2]
    frames = [render_still_nv12(deck, output, start + t, compositor="cpu") for t in (0.6, 0.7, 1.6, 1.8)]
    assert not np.array_equal(frames[0], frames[1])
    assert np.array_equal(frames[2], frames[3])


def test_every_shader_has_its_numpy_twin():
    """Each GLSL program the compositors run has a numpy implementation the CPU path uses."""
    from engine.colour import rgb_to_nv12
    from engine.composite.layers import compose_plane
    from engine.composite.twins import TWINS
    from engine.resources import data_dir

    twins = {"motion.frag": compose_plane, "rgb_to_yuv.frag": rgb_to_nv12}
    # Not programs of their own: the vertex stage, and the preludes user files and
    # built-ins are appended to.
    helpers = {"fullscreen.vert", "transition_prelude.glsl", "user_prelude.glsl"}
    shaders = data_dir("shaders")
    for path in shaders.glob("*.*"):
        assert path.name in twins or path.name in helpers, f"{path.name} has no numpy twin"
    assert {p.stem for p in (shaders / "transitions").glob("*.glsl")} == set(TWINS)


# --- the numpy twin against the formula, texel by texel ------------------------------------


def _motion_formula(width, back, static, items, rows, step, reveal=None):
    """motion.frag's formula on a whole plane at once, written plainly (the slow reference)."""
    f32, inv = np.float32, np.float32(1 / 255)
    height = rows.size
    sx, ox, sy, oy = (f32(v) for v in step.back_map)

    def axis(size, scale, offset, limit):
        position = np.clip((np.arange(size, dtype=f32) + f32(0.5)) * scale + offset - f32(0.5), f32(0), f32(limit - 1))
        q = np.floor(position * f32(256) + f32(0.5)).astype(np.int64)  # in 1/256 texel
        i0 = q >> 8
        return i0, np.minimum(i0 + 1, limit - 1), q & 255

    x0, x1, fx = axis(width, sx, ox, back.shape[1])
    y0, y1, fy = axis(height, sy, oy, back.shape[0])
    extra = (1,) * (back.ndim - 2)
    fx, fy = fx.reshape((1, -1) + extra), fy.reshape((-1, 1) + extra)
    t = back.astype(np.int64)
    top = (t[y0][:, x0] * (256 - fx) + t[y0][:, x1] * fx + 128) >> 8
    bottom = (t[y1][:, x0] * (256 - fx) + t[y1][:, x1] * fx + 128) >> 8
    value = ((top * (256 - fy) + bottom * fy + 128) >> 8).astype(f32) * inv
    if static is not None:
        colour, alpha = static[0] * inv, (static[1] * inv).reshape(alpha_shape := static[1].shape + extra)
        value = np.where(static[1].reshape(alpha_shape) == 255, colour, value + (colour - value) * alpha)
    if reveal is not None:
        image, image_alpha, base, base_alpha, times = reveal[:5]
        shown = times <= step.reveal_threshold
        colour = np.where(shown.reshape(shown.shape + extra), image, base) * inv
        weight = np.where(shown, image_alpha * inv * f32(step.reveal_opacity), base_alpha * inv).astype(f32)
        value = value + (colour - value) * weight.reshape(weight.shape + extra)
    if items is not None:
        colour, alpha = items[:2]
        for y in range(height):
            item = int(rows[y])
            if item == 0:
                continue
            opacity, dx, dy = step.items[item]
            source_y = y - int(dy)
            if not 0 <= source_y < height or rows[source_y] != item:
                continue
            for x in range(width):
                source_x = x - int(dx)
                if 0 <= source_x < width:
                    a = alpha[source_y, source_x] * inv * opacity
                    value[y, x] = value[y, x] + (colour[source_y, source_x] * inv - value[y, x]) * a
    return np.rint(value * np.float32(255)).astype(np.uint8)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(
    "back_map",
    [
        (1.0, 0.0, 1.0, 0.0),  # at rest
        (1.0004, 3.3, 0.9993, 2.2),  # a drift: runs of consecutive back texels
        (0.83, 7.1, 0.83, 4.6),  # a zoom in: gathers
        (1.2, 0.4, 1.2, 0.3),  # a zoom out to the whole back layer
        (0.9, 4.2, 1.0, 0.0),  # across only: the rows at rest
        (1.0, 0.0, 0.9, 3.1),  # down only: the columns at rest
        (1.0, 0.0, 1.0, 3.0),  # down on whole texels, the columns at rest: one rounding
        (1.0, 2.0, 1.0, 3.0),  # across and down on whole texels
        (0.9, 4.2, 1.0, 3.0),  # across, down on whole texels
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_compose_plane_draws_the_shader_formula_bit_for_bit(channels, back_map, threads):
    """Every shortcut of the numpy twin (open box, copied rows, runs, threads) keeps the formula's bytes."""
    from engine.composite.layers import LayerWork, PlaneStep, compose_plane

    rng = np.random.default_rng(7)
    height, width = 96, 80
    extra = () if channels == 1 else (2,)
    back = rng.integers(0, 256, (116, 100) + extra, dtype=np.uint8)
    if back_map[0] == 1.0 and back_map[1] == 0.0:  # (an axis at rest reads the frame's texels)
        back = back[:, :width].copy()
    if back_map[2] == 1.0 and back_map[3] == 0.0:
        back = back[:height].copy()
    # A static layer opaque outside a box, clear or antialiased inside it, and ink in rows outside too.
    alpha = np.full((height, width), 255, dtype=np.uint8)
    alpha[20:70, 10:60] = 0
    alpha[20:70, 10:13] = rng.integers(1, 255, (50, 3), dtype=np.uint8)
    alpha[40:44, 30:50] = 255
    colour = rng.integers(0, 256, (height, width) + extra, dtype=np.uint8)
    box = (20, 70, 10, 60)
    static = (colour, alpha, box, alpha.any(axis=1))
    # Antialiased over most of the box too: blended as whole blocks rather than texel by texel.
    dense_alpha = alpha.copy()
    dense_alpha[20:70, 10:50] = rng.integers(0, 256, (50, 40), dtype=np.uint8)
    dense = (colour, dense_alpha, box, dense_alpha.any(axis=1))
    rows = np.zeros(height, dtype=np.uint8)
    rows[50:58], rows[60:66], rows[80:90] = 1, 2, 3
    item_colour = rng.integers(0, 256, (height, width) + extra, dtype=np.uint8)
    item_alpha = rng.integers(0, 256, (height, width), dtype=np.uint8)
    table = np.array([[0, 0, 0], [0.5, 0, 2], [0.0, 0, 0], [1.0, 4, 0]], dtype=np.float32)
    step = PlaneStep(back_map, table)
    work = LayerWork(width, channels=max(2, channels), threads=threads)
    work.rows = 7  # blocks that straddle the box and the items
    work.scratch = [type(s)(7, 7 * width * 2) for s in work.scratch]
    try:
        for layers in [
            (static, None),
            (dense, None),
            (None, (item_colour, item_alpha, item_alpha.any(axis=1))),
            (static, (item_colour, item_alpha, item_alpha.any(axis=1))),
            (dense, (item_colour, item_alpha, item_alpha.any(axis=1))),
        ]:
            out = np.empty((height, width) + extra, dtype=np.uint8)
            compose_plane(out, back, layers[0], layers[1], rows, step, work)
            expected = _motion_formula(width, back, layers[0], layers[1], rows, step)
            assert np.array_equal(out, expected), np.argwhere(out != expected)[:5]
    finally:
        work.close()


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("back_map", [(1.0, 0.0, 1.0, 0.0), (0.83, 7.1, 0.83, 4.6)])
@pytest.mark.parametrize("threads", [1, 2])
def test_compose_plane_draws_a_chart_appearing_under_build_items_bit_for_bit(channels, back_map, threads):
    """A chart's reveal under build items whose bands run past their ink: the rows no
    item's ink reaches, and (over a still back layer) the chart's two outcomes chosen per
    texel, keep the formula's bytes, at every clock and opacity."""
    from engine.composite.layers import LayerWork, PlaneStep, compose_plane

    rng = np.random.default_rng(11)
    height, width = 96, 80
    extra = () if channels == 1 else (channels,)  # (3: an RGB frame, as `compose_rgb` draws one)
    back = rng.integers(0, 256, (116, 100) + extra, dtype=np.uint8)
    if back_map == (1.0, 0.0, 1.0, 0.0):
        back = back[:height, :width].copy()
    # A title (item 1) with ink in rows 8-15 whose band runs to row 40, a caption (item
    # 2) inked in rows 70-75 whose band runs to the foot; the chart spans rows 30-90.
    rows = np.zeros(height, dtype=np.uint8)
    rows[8:40], rows[70:] = 1, 2
    item_colour = rng.integers(0, 256, (height, width) + extra, dtype=np.uint8)
    item_alpha = np.zeros((height, width), dtype=np.uint8)
    item_alpha[8:16, 5:70] = rng.integers(1, 256, (8, 65), dtype=np.uint8)
    item_alpha[70:76, 10:40] = 255
    chart = np.zeros((height, width), dtype=bool)
    chart[30:90, 12:72] = True
    image, base = (
        np.where(
            chart.reshape(chart.shape + (1,) * len(extra)), rng.integers(0, 256, (height, width) + extra), 0
        ).astype(np.uint8)
        for _ in range(2)
    )
    image_alpha = np.where(chart, rng.integers(0, 256, (height, width)), 0).astype(np.uint8)
    base_alpha = np.where(chart & (rng.random((height, width)) < 0.3), 255, 0).astype(np.uint8)
    times = np.where(chart, rng.integers(0, 65536, (height, width)), 0).astype(np.uint16)
    times[40:44] = np.where(chart[40:44], 30000, 0)  # texels whose time is the clock: shown
    reveal = (image, image_alpha, base, base_alpha, times, chart.any(axis=1))
    work = LayerWork(width, channels=max(2, channels), threads=threads)
    work.rows = 7  # blocks that straddle the chart's rows and the items'
    work.scratch = [type(s)(7, 7 * width * max(2, channels)) for s in work.scratch]
    try:
        for threshold, opacity, title in [
            (0, 1.0, (0.3, 0, 12)),
            (30000, 1.0, (0.3, 0, 12)),
            (30000, 1.0, (1.0, 0, 0)),
            (65535, 1.0, (0.0, 0, 20)),
            (30000, 0.5, (0.6, 0, 4)),
        ]:
            table = np.array([[0, 0, 0], title, [1.0, 0, -6]], dtype=np.float32)
            step = PlaneStep(back_map, table, threshold, opacity)
            out = np.empty((height, width) + extra, dtype=np.uint8)
            compose_plane(out, back, None, (item_colour, item_alpha, item_alpha.any(axis=1)), rows, step, work, reveal)
            expected = _motion_formula(
                width, back, None, (item_colour, item_alpha, item_alpha.any(axis=1)), rows, step, reveal
            )
            assert np.array_equal(out, expected), (threshold, opacity, title, np.argwhere(out != expected)[:5])
    finally:
        work.close()


def test_a_chart_appearing_over_a_still_picture_is_blended_once_per_slide(monkeypatch):
    """Frame by frame, rows no build item's ink reaches choose between the chart's two
    outcomes, blended on the slide's first frame: `_reveal` runs only where the title is."""
    from engine.composite import layers
    from engine.composite.layers import LayerWork, PlaneStep, compose_plane

    height, width = 64, 48
    back = np.full((height, width), 90, dtype=np.uint8)
    rows = np.zeros(height, dtype=np.uint8)
    rows[4:] = 1  # the title's band runs to the foot; its ink is in rows 4-9
    item_alpha = np.zeros((height, width), dtype=np.uint8)
    item_alpha[4:10] = 255
    item_colour = np.full((height, width), 200, dtype=np.uint8)
    chart = np.zeros((height, width), dtype=bool)
    chart[24:60, 8:40] = True
    image = np.where(chart, 235, 0).astype(np.uint8)
    alpha = np.where(chart, 255, 0).astype(np.uint8)
    times = np.where(chart, (np.arange(width)[None, :] - 8).clip(0) * 1000, 0).astype(np.uint16)
    reveal = (image, alpha, np.zeros_like(image), np.zeros_like(alpha), times, chart.any(axis=1))
    blended = []
    real = layers._reveal
    monkeypatch.setattr(layers, "_reveal", lambda value, *args: (blended.append(value.shape[0]), real(value, *args)))
    work = LayerWork(width, threads=1)
    work.scratch = [type(s)(16, 16 * width * 2) for s in work.scratch]  # blocks of 16 rows
    out = np.empty((height, width), dtype=np.uint8)
    # The title rising (its ink reaches rows 12-17), then not shown yet (opacity 0): then
    # no row is blended over, since its band's clear rows show nothing.
    for clock, title in ((0, (0.5, 0, 8)), (10000, (0.5, 0, 8)), (20000, (0.0, 0, 8))):
        table = np.array([[0, 0, 0], title], dtype=np.float32)
        compose_plane(
            out,
            back,
            None,
            (item_colour, item_alpha, item_alpha.any(axis=1)),
            rows,
            PlaneStep((1.0, 0.0, 1.0, 0.0), table, clock),
            work,
            reveal,
        )
        assert (out[24:60, 8 + clock // 1000 + 1 : 40] == 90).all() and (
            out[24:60, 8 : 8 + clock // 1000 + 1] == 235
        ).all()
    work.close()
    assert blended == [16] * 2  # rows 16-31 while the title's ink reaches row 17


def test_compose_plane_keeps_apart_static_layers_that_share_an_alpha_plane():
    """SharedPlanes may hand two slides one alpha plane under different colours: each keeps its own."""
    from engine.composite.layers import LayerWork, PlaneStep, compose_plane

    rng = np.random.default_rng(11)
    height, width = 48, 64
    back = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    alpha = np.full((height, width), 255, dtype=np.uint8)
    alpha[8:40, 8:56] = 0
    alpha[20:24, 10:50] = rng.integers(1, 256, (4, 40), dtype=np.uint8)  # a little ink in the box
    rows = np.zeros(height, dtype=np.uint8)
    step = PlaneStep((0.85, 3.2, 0.85, 2.7), np.zeros((1, 3), dtype=np.float32))
    work = LayerWork(width, channels=2, threads=1)
    try:
        for colour in (rng.integers(0, 256, (height, width), dtype=np.uint8) for _ in range(2)):
            static = (colour, alpha, (8, 40, 8, 56), alpha.any(axis=1))
            out = np.empty((height, width), dtype=np.uint8)
            compose_plane(out, back, static, None, rows, step, work)
            assert np.array_equal(out, _motion_formula(width, back, static, None, rows, step))
    finally:
        work.close()


@pytest.mark.parametrize("back_map", [(0.83, 7.1, 0.83, 4.6), (1.0004, 3.3, 0.9993, 2.2), (0.6131, 0.37, 0.6131, 9.91)])
def test_fixed_point_bilinear_is_within_two_codes_of_float_bilinear(back_map):
    """The stated tolerance against float32 bilinear, on noise (every texel an edge):
    two codes at most, and two only where both passes' roundings and the position's add up."""
    from engine.composite.layers import LayerWork, PlaneStep, compose_plane

    f32 = np.float32
    rng = np.random.default_rng(5)
    height, width = 360, 480
    back = rng.integers(0, 256, (440, 560), dtype=np.uint8)
    rows = np.zeros(height, dtype=np.uint8)
    out = np.empty((height, width), dtype=np.uint8)
    work = LayerWork(width, threads=1)
    try:
        compose_plane(out, back, None, None, rows, PlaneStep(back_map, np.zeros((1, 3), dtype=f32)), work)
    finally:
        work.close()

    def axis(size, scale, offset, limit):
        position = (np.arange(size, dtype=f32) + f32(0.5)) * f32(scale) + f32(offset) - f32(0.5)
        position = np.clip(position, f32(0), f32(limit - 1))
        i0 = np.floor(position).astype(int)
        return i0, np.minimum(i0 + 1, limit - 1), position - i0

    x0, x1, fx = axis(width, back_map[0], back_map[1], back.shape[1])
    y0, y1, fy = axis(height, back_map[2], back_map[3], back.shape[0])
    b = back * f32(1 / 255)
    top = b[y0][:, x0] + (b[y0][:, x1] - b[y0][:, x0]) * fx
    bottom = b[y1][:, x0] + (b[y1][:, x1] - b[y1][:, x0]) * fx
    expected = np.rint((top + (bottom - top) * fy[:, None]) * f32(255)).astype(int)
    difference = np.abs(out.astype(int) - expected)
    print(f"{back_map}: {np.count_nonzero(difference > 1)} of {difference.size} texels two codes off")
    assert difference.max() <= 2
    assert np.count_nonzero(difference > 1) <= difference.size // 5_000
