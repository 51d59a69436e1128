"""Compositors: holds, every built-in transition on both backends, and GL against numpy.

Tolerances: the GL and CPU compositors must agree within ±1 code value on at least
99.9 % of NV12 samples and within 3 codes anywhere (ties and float contraction may
round differently on other drivers; on llvmpipe they agree bit for bit, the geometric
built-ins included, so no transition has a looser bound). Progress 0 and 1 must give
the source and the target exactly, on both.
"""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest

from engine.colour import nv12_planes, nv12_size, parse_colour, rgb_to_nv12, rgb_to_yuv
from engine.composite import COMPOSITORS, Compositor, FrameSpec, SlideHandle, open_compositor
from engine.composite.cpu import TWINS, CPUCompositor
from engine.errors import BackendUnavailableError, RenderError, SpecError
from engine.resources import shader_source
from engine.transitions import BUILTIN

W, H = 128, 72
PROGRESSES = [0.0, 0.25, 0.5, 0.77, 1.0]
# (name, params) cases: every built-in, with defaults and with parameters that matter.
CASES = [(name, {}) for name in BUILTIN] + [
    ("fadeblack", {"color": (200, 30, 90)}),
    ("wipeleft", {"softness": 0.15}),
    ("wiperight", {"softness": 0.3}),
    ("wipeup", {"softness": 0.2}),
    ("wipedown", {"softness": 0.1}),
    ("wipediagonal", {"softness": 0.25}),
    ("circleopen", {"softness": 0.1}),
    ("circleclose", {"softness": 0.3}),
    ("clockwipe", {"softness": 0.05}),
    ("zoomin", {"strength": 2.0}),
    ("zoomout", {"strength": 1.0}),
    ("dissolve", {"cells": 9.0, "seed": 3.0}),
    ("pixelize", {"squares": 6.0}),
    ("blurfade", {"radius": 0.05}),
    ("ripple", {"amplitude": 0.05, "frequency": 20.0, "speed": 10.0}),
    ("cube", {"shadow": (200, 30, 90)}),
    ("lumawipe", {"matte": "radial", "softness": 0.0}),
    ("lumawipe", {"invert": 1.0, "softness": 0.3}),
]
# Built-ins whose edge sweeps across the frame, with a `softness`.
WIPES = ["wipeleft", "wiperight", "wipeup", "wipedown", "wipediagonal", "circleopen", "circleclose", "clockwipe"]
MAX_DIFF = 3
MIN_WITHIN_ONE = 0.999


def case_id(case) -> str:
    name, params = case
    return name + "".join(f"-{k}={v}" for k, v in params.items()).replace(" ", "")


def random_image(width=W, height=H, seed=0, channels=3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


def solid(rgb, width=W, height=H) -> np.ndarray:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[...] = rgb
    return image


def read(compositor) -> np.ndarray:
    out = np.empty(nv12_size(compositor.width, compositor.height), dtype=np.uint8)
    compositor.read_nv12(out)
    return out


def frame(compositor, a, b, name, progress, params=None) -> np.ndarray:
    compositor.render(FrameSpec(a, b, name, progress, params or {}))
    return read(compositor)


@pytest.fixture(params=["cpu", pytest.param("gl", marks=pytest.mark.gl)])
def make(request, gl_compositor):
    """make(width, height) → a compositor of the parametrised backend."""
    if request.param == "gl":
        yield gl_compositor
        return
    made = []

    def cpu(width, height):
        made.append(CPUCompositor(width, height))
        return made[-1]

    yield cpu
    for compositor in made:
        compositor.close()


@pytest.fixture(scope="module")
def pair():
    """Two random slides (one RGB, one RGBA) and their NV12 references."""
    a, b = random_image(seed=1), random_image(seed=2, channels=4)
    return a, b, rgb_to_nv12(a), rgb_to_nv12(b)


def upload_pair(compositor, pair, tag="pair"):
    a, b = pair[0], pair[1]
    return compositor.upload(f"{tag}-a", a), compositor.upload(f"{tag}-b", b)


# --- shader files and the catalogue ---------------------------------------------------


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_builtin_has_a_shader_in_the_gl_transitions_convention(name):
    source = shader_source(f"transitions/{name}.glsl")
    assert source.splitlines()[:2] == ["// Author: Reel", "// License: MIT"]
    assert re.search(r"vec4\s+transition\s*\(\s*vec2\s+uv\s*\)", source)
    assert "texture" not in source, "sample only through getFromColor / getToColor"
    declared = dict(re.findall(r"uniform\s+\w+\s+(\w+)\s*;\s*//\s*=\s*(.+)", source))
    assert set(declared) == set(BUILTIN[name].params), "uniforms with // = defaults match the catalogue"
    for key, default in BUILTIN[name].params.items():
        if key in BUILTIN[name].image_params:
            assert declared[key].strip() == default, f"{key}: {declared[key]} is not {default}"
        elif key in BUILTIN[name].colour_params:
            inside = re.fullmatch(r"vec3\((.*)\)\s*", declared[key]).group(1)
            components = [float(v) for v in inside.split(",")]
            rgb = [round(255 * c) for c in (components * 3 if len(components) == 1 else components)]
            assert tuple(rgb) == parse_colour(default), f"{key}: {declared[key]} is not {default}"
        else:
            assert float(declared[key]) == default, f"{key}: {declared[key]} is not {default}"


@pytest.mark.parametrize("name", list(BUILTIN))
def test_every_builtin_is_described_and_yuv_safe(name):
    definition = BUILTIN[name]
    assert definition.description and definition.yuv_safe
    for key, default in definition.params.items():
        is_text = key in definition.colour_params | definition.image_params
        assert isinstance(default, str) if is_text else isinstance(default, float)


def test_every_builtin_has_a_numpy_twin():
    assert set(TWINS) == set(BUILTIN)


def test_registry_names_both_backends():
    assert set(COMPOSITORS) == {"gl", "cpu"}
    compositor = open_compositor("cpu", 64, 36)
    assert isinstance(compositor, Compositor)
    assert (compositor.name, compositor.kind, compositor.renderer) == ("cpu", "cpu", "numpy")
    compositor.close()


# --- behaviour on both backends ----------------------------------------------------------


def test_hold_reads_back_the_uploaded_planes_exactly(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    compositor.render(FrameSpec(a))
    assert np.array_equal(read(compositor), pair[2])
    compositor.render(FrameSpec(b))
    assert np.array_equal(read(compositor), pair[3])


def test_uploading_a_key_twice_returns_the_first_handle(make, pair):
    compositor = make(W, H)
    first = compositor.upload("same-key", pair[0])
    again = compositor.upload("same-key", pair[1])  # not converted again
    assert again == first
    compositor.render(FrameSpec(again))
    assert np.array_equal(read(compositor), pair[2])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_progress_0_is_the_source_and_1_the_target_exactly(make, pair, case):
    name, params = case
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    assert np.array_equal(frame(compositor, a, b, name, 0.0, params), pair[2])
    assert np.array_equal(frame(compositor, a, b, name, 1.0, params), pair[3])


def test_fade_halfway_is_the_mean_of_both_planes(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    expected = (pair[2].astype(int) + pair[3]) / 2
    assert np.abs(frame(compositor, a, b, "fade", 0.5) - expected).max() <= 1


@pytest.mark.parametrize("rgb", [(0, 0, 0), (200, 30, 90)])
def test_fadeblack_halfway_is_the_flat_colour(make, pair, rgb):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    y, uv = nv12_planes(frame(compositor, a, b, "fadeblack", 0.5, {"color": rgb}), W, H)
    want = np.floor(rgb_to_yuv(rgb) + 0.5)
    assert np.abs(y.astype(int) - want[0]).max() <= 1
    assert np.abs(uv.astype(int) - want[1:]).max() <= 1


def test_fadeblack_defaults_to_black(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    y, uv = nv12_planes(frame(compositor, a, b, "fadeblack", 0.5), W, H)
    assert np.all(y == 16) and np.all(uv == 128)


# Two solid slides tell which one a column shows from its luma alone.
RED_Y, BLUE_Y = 63, 32


@pytest.fixture(scope="module")
def solids():
    return solid((255, 0, 0)), solid((0, 0, 255))


def luma_columns(compositor, solids, name, progress) -> np.ndarray:
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    y, _ = nv12_planes(frame(compositor, a, b, name, progress), W, H)
    assert np.all(y == y[0]), "every row the same"
    return y[0]


@pytest.mark.parametrize(
    ("name", "target_side"),
    [
        ("wipeleft", "right"),
        ("wiperight", "left"),
        ("slideleft", "right"),
        ("slideright", "left"),
        ("coverleft", "right"),
        ("coverright", "left"),
        ("revealleft", "right"),
        ("revealright", "left"),
    ],
)
def test_the_next_slide_appears_on_the_named_side(make, solids, name, target_side):
    compositor = make(W, H)
    columns = luma_columns(compositor, solids, name, 0.25)
    quarter = W // 4
    shows_target = np.zeros(W, dtype=bool)
    if target_side == "right":
        shows_target[W - quarter :] = True
    else:
        shows_target[:quarter] = True
    assert np.array_equal(columns, np.where(shows_target, BLUE_Y, RED_Y))


@pytest.mark.parametrize(
    ("name", "target_edge"), [("wipeup", "bottom"), ("wipedown", "top"), ("slideup", "bottom"), ("slidedown", "top")]
)
def test_the_next_slide_appears_at_the_named_edge(make, solids, name, target_edge):
    compositor = make(W, H)
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    y, _ = nv12_planes(frame(compositor, a, b, name, 0.25), W, H)
    assert np.all(y == y[:, :1]), "every column the same"
    quarter = H // 4
    shows_target = np.zeros(H, dtype=bool)
    if target_edge == "bottom":
        shows_target[H - quarter :] = True
    else:
        shows_target[:quarter] = True
    assert np.array_equal(y[:, 0], np.where(shows_target, BLUE_Y, RED_Y))


@pytest.mark.parametrize(("name", "moved_to"), [("slideup", 36 - 18), ("slidedown", 36 + 18)])
def test_vertical_slides_move_the_content_in_the_named_direction(make, name, moved_to):
    compositor = make(W, H)
    marked = np.zeros((H, W, 3), dtype=np.uint8)
    marked[36:38] = 255  # a white band across the middle of a black slide
    a = compositor.upload("band", marked)
    b = compositor.upload("black", np.zeros((H, W, 3), dtype=np.uint8))
    y, _ = nv12_planes(frame(compositor, a, b, name, 0.25), W, H)
    assert np.flatnonzero(y[:, 0] == 235).tolist() == [moved_to, moved_to + 1]


def test_covers_move_only_the_next_slide_and_reveals_only_this_one(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    source, target = nv12_planes(pair[2], W, H)[0], nv12_planes(pair[3], W, H)[0]
    quarter = W // 4
    cover_left = nv12_planes(frame(compositor, a, b, "coverleft", 0.25), W, H)[0]
    assert np.array_equal(cover_left[:, : W - quarter], source[:, : W - quarter]), "this slide stays"
    assert np.array_equal(cover_left[:, W - quarter :], target[:, :quarter]), "the next one's left edge comes in"
    cover_right = nv12_planes(frame(compositor, a, b, "coverright", 0.25), W, H)[0]
    assert np.array_equal(cover_right[:, quarter:], source[:, quarter:])
    assert np.array_equal(cover_right[:, :quarter], target[:, W - quarter :])
    reveal_left = nv12_planes(frame(compositor, a, b, "revealleft", 0.25), W, H)[0]
    assert np.array_equal(reveal_left[:, W - quarter :], target[:, W - quarter :]), "the next slide stays"
    assert np.array_equal(reveal_left[:, : W - quarter], source[:, quarter:]), "this one moves left"
    reveal_right = nv12_planes(frame(compositor, a, b, "revealright", 0.25), W, H)[0]
    assert np.array_equal(reveal_right[:, :quarter], target[:, :quarter])
    assert np.array_equal(reveal_right[:, quarter:], source[:, : W - quarter])


def solid_luma(compositor, solids, name, progress, params=None) -> np.ndarray:
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    return nv12_planes(frame(compositor, a, b, name, progress, params), W, H)[0]


def test_circleopen_shows_the_next_slide_at_the_centre_first(make, solids):
    compositor = make(W, H)
    y = solid_luma(compositor, solids, "circleopen", 0.1)
    assert np.all(y[34:38, 62:66] == BLUE_Y) and np.all(y[[0, 0, -1, -1], [0, -1, 0, -1]] == RED_Y)
    y = solid_luma(compositor, solids, "circleclose", 0.1)
    assert np.all(y[34:38, 62:66] == RED_Y) and np.all(y[[0, 0, -1, -1], [0, -1, 0, -1]] == BLUE_Y)


def test_circles_are_round_at_any_aspect_ratio(make, solids):
    compositor = make(W, H)
    y = solid_luma(compositor, solids, "circleopen", 0.4)
    across, down = np.sum(y[H // 2] == BLUE_Y), np.sum(y[:, W // 2] == BLUE_Y)
    assert 20 < down < H and abs(int(across) - int(down)) <= 2, (across, down)


def test_clockwipe_sweeps_clockwise_from_twelve(make, solids):
    compositor = make(W, H)
    y = solid_luma(compositor, solids, "clockwipe", 0.25)
    assert np.all(y[:34, 66:] == BLUE_Y), "a quarter turn in: the upper-right quadrant is the next slide"
    assert np.all(y[38:] == RED_Y) and np.all(y[:, :62] == RED_Y), "the rest is still this one"
    y = solid_luma(compositor, solids, "clockwipe", 0.5)
    assert np.all(y[:, 66:] == BLUE_Y) and np.all(y[:, :62] == RED_Y), "half a turn: the right half"


def test_wipediagonal_runs_from_the_top_left_corner(make, solids):
    compositor = make(W, H)
    y = solid_luma(compositor, solids, "wipediagonal", 0.25)
    assert y[0, 0] == BLUE_Y and y[-1, -1] == RED_Y and y[-1, 0] == RED_Y and y[0, -1] == RED_Y
    diagonal = y[np.arange(H), np.arange(H) * W // H]
    assert np.all(np.diff(diagonal.astype(int)) >= 0), "the next slide, then this one, along the diagonal"


def test_dissolve_is_fixed_by_its_seed(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    first = frame(compositor, a, b, "dissolve", 0.4, {"seed": 1.0})
    assert np.array_equal(frame(compositor, a, b, "dissolve", 0.4, {"seed": 1.0}), first)
    assert not np.array_equal(frame(compositor, a, b, "dissolve", 0.4, {"seed": 2.0}), first)


def test_dissolve_shows_whole_cells_in_both_planes(make, solids):
    compositor = make(W, H)
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    # 36 cells down a 72-row frame: cells of 2×2 pixels, one chroma texel each.
    y, uv = nv12_planes(frame(compositor, a, b, "dissolve", 0.3, {"cells": 36.0}), W, H)
    blocks = y.reshape(H // 2, 2, W // 2, 2).transpose(0, 2, 1, 3).reshape(H // 2, W // 2, 4)
    assert np.all(blocks == blocks[..., :1]), "a cell is one slide or the other"
    shows_target = blocks[..., 0] == BLUE_Y
    assert 0.2 < shows_target.mean() < 0.4, "about `progress` of the cells"
    red_uv, blue_uv = (nv12_planes(rgb_to_nv12(s), W, H)[1][0, 0] for s in solids)
    assert np.array_equal(uv, np.where(shows_target[..., None], blue_uv, red_uv)), "chroma follows its cell"


def centre_square(side: int) -> np.ndarray:
    image = np.zeros((H, W, 3), dtype=np.uint8)
    image[H // 2 - side // 2 : H // 2 + side // 2, W // 2 - side // 2 : W // 2 + side // 2] = 255
    return image


@pytest.mark.parametrize("name", ["zoomin", "zoomout"])
def test_zooms_scale_about_the_centre(make, name):
    compositor = make(W, H)
    square, black = (
        compositor.upload("square", centre_square(20)),
        compositor.upload("black", np.zeros((H, W, 3), np.uint8)),
    )
    a, b = (square, black) if name == "zoomin" else (black, square)
    # Halfway with strength 1 the zoomed slide is at 1.5×, blended half and half with black.
    y, _ = nv12_planes(frame(compositor, a, b, name, 0.5, {"strength": 1.0}), W, H)
    lit = y > 16
    rows, columns = np.flatnonzero(lit.any(axis=1)), np.flatnonzero(lit.any(axis=0))
    assert 28 <= rows.size <= 32 and 28 <= columns.size <= 32
    assert abs(rows.mean() - (H - 1) / 2) <= 0.5 and abs(columns.mean() - (W - 1) / 2) <= 0.5


def test_pixelize_shows_square_blocks_halfway(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    # 8 blocks down 72 rows, 8 · 128/72 across 128 columns: 9×9-pixel blocks.
    y, _ = nv12_planes(frame(compositor, a, b, "pixelize", 0.5, {"squares": 8.0}), W, H)
    for top in range(0, H, 9):
        for left in range(0, W - W % 9, 9):
            block = y[top : top + 9, left : left + 9]
            assert np.all(block == block[0, 0]), f"block at {left}, {top}"
    assert np.unique(y).size > 20, "and the blocks differ"


@pytest.mark.parametrize(("name", "params"), [("blurfade", {"radius": 0.0}), ("ripple", {"amplitude": 0.0})])
def test_blurfade_and_ripple_without_their_effect_are_the_fade(make, pair, name, params):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    for progress in (0.3, 0.5):
        assert np.array_equal(
            frame(compositor, a, b, name, progress, params), frame(compositor, a, b, "fade", progress)
        )


@pytest.mark.parametrize("name", ["blurfade", "ripple"])
def test_blurfade_and_ripple_move_texels_but_keep_the_fade_overall(make, pair, name):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    moved, fade = frame(compositor, a, b, name, 0.5), frame(compositor, a, b, "fade", 0.5)
    assert np.mean(moved != fade) > 0.1  # random slides: a texel moved is a texel changed
    assert abs(float(moved.mean()) - float(fade.mean())) < 1.0


def test_cube_turns_left_darkens_towards_the_fold_and_shows_shadow_around(make, solids):
    compositor = make(W, H)
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    green = (0, 255, 0)
    y, uv = nv12_planes(frame(compositor, a, b, "cube", 0.5, {"shadow": green}), W, H)
    green_yuv = np.floor(rgb_to_yuv(green) + 0.5)
    assert np.all(np.abs(y[[0, 0, -1, -1], [0, -1, 0, -1]] - green_yuv[0]) <= 1), "the corners are shadow"
    assert np.all(np.abs(uv[0, 0] - green_yuv[1:]) <= 1)
    # Along the middle row: shadow, the current (red: Cr high) face, the next (blue: Cb high) one.
    cb, cr = uv[H // 4, :, 0].astype(int), uv[H // 4, :, 1].astype(int)
    red_face, blue_face = np.flatnonzero(cr > cb + 40), np.flatnonzero(cb > cr + 40)
    assert red_face.size > 10 and blue_face.size > 10
    assert red_face.max() < blue_face.min(), "the current slide on the left, the next on the right"
    row = y[H // 2, red_face].astype(int)
    assert row[-1] > row[0], "nearer the fold, nearer the (brighter) shadow colour"


@pytest.mark.parametrize(("name", "moved_to"), [("slideleft", 64 - 32), ("slideright", 64 + 32)])
def test_slides_move_the_content_in_the_named_direction(make, name, moved_to):
    compositor = make(W, H)
    marked = np.zeros((H, W, 3), dtype=np.uint8)
    marked[:, 64:66] = 255  # a white stripe in the middle of a black slide
    a = compositor.upload("stripe", marked)
    b = compositor.upload("black", np.zeros((H, W, 3), dtype=np.uint8))
    y, _ = nv12_planes(frame(compositor, a, b, name, 0.25), W, H)
    assert np.flatnonzero(y[0] == 235).tolist() == [moved_to, moved_to + 1]


def test_a_soft_wipe_blends_only_inside_its_band(make, solids):
    compositor = make(W, H)
    a = compositor.upload("solid-red", solids[0])
    b = compositor.upload("solid-blue", solids[1])
    y, _ = nv12_planes(frame(compositor, a, b, "wipeleft", 0.5, {"softness": 0.25}), W, H)
    columns = y[0].astype(int)
    assert np.all(np.diff(columns) <= 0), "from red on the left to blue on the right"
    between = np.flatnonzero((columns < RED_Y) & (columns > BLUE_Y))
    assert 0 < between.size <= W // 4 + 1


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("circleopen", {"softness": 0.03}),
        ("circleclose", {"softness": 0.2}),
        ("clockwipe", {"softness": 0.05}),
        ("wipediagonal", {"softness": 0.1}),
        ("lumawipe", {"matte": "radial", "softness": 0.05}),
        ("lumawipe", {"softness": 0.15}),  # clouds: the band reaches most columns mid-way
    ],
)
def test_a_soft_sweep_blends_only_its_band_and_draws_the_same_bytes(monkeypatch, name, params):
    # The numpy twin blends only the columns of a block that some texel inside the band
    # reaches, and copies elsewhere (a weight of exactly 0 or 1): the bytes of blending it all.
    from engine.composite import twins

    width, height = 640, 360
    a_image, b_image = random_image(width, height, seed=3), random_image(width, height, seed=4)
    skipped = []
    real = twins._band_block
    monkeypatch.setattr(twins, "_band_block", lambda *args: skipped.append(real(*args)) or skipped[-1])
    banded = CPUCompositor(width, height)
    handles = (banded.upload("a", a_image), banded.upload("b", b_image))
    fast = [frame(banded, *handles, name, p, params) for p in (0.1, 0.3, 0.5, 0.7, 0.9)]
    monkeypatch.setattr(twins, "_band_block", lambda *args: False)  # every block blended whole
    whole = CPUCompositor(width, height)
    handles = (whole.upload("a", a_image), whole.upload("b", b_image))
    for p, drawn in zip((0.1, 0.3, 0.5, 0.7, 0.9), fast, strict=True):
        assert np.array_equal(drawn, frame(whole, *handles, name, p, params)), p
    assert any(skipped)  # (the shortcut was taken)


@pytest.mark.parametrize("softness", [-0.5, 1e-9])
def test_wipes_with_odd_softness_still_end_on_the_target(make, pair, softness):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    for name in WIPES:
        assert np.array_equal(frame(compositor, a, b, name, 0.0, {"softness": softness}), pair[2]), name
        assert np.array_equal(frame(compositor, a, b, name, 1.0, {"softness": softness}), pair[3]), name
    for name in ("wipeleft", "wiperight"):
        middle = frame(compositor, a, b, name, 0.5, {"softness": softness})
        y = nv12_planes(middle, W, H)[0]
        from_side, to_side = (slice(0, W // 2 - 1), slice(W // 2 + 1, W))[:: 1 if name == "wipeleft" else -1]
        assert np.array_equal(y[:, from_side], nv12_planes(pair[2], W, H)[0][:, from_side])
        assert np.array_equal(y[:, to_side], nv12_planes(pair[3], W, H)[0][:, to_side])


def test_cut_switches_halfway(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    assert np.array_equal(frame(compositor, a, b, "cut", 0.49), pair[2])
    assert np.array_equal(frame(compositor, a, b, "cut", 0.5), pair[3])


def test_progress_outside_0_to_1_is_clamped(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    assert np.array_equal(frame(compositor, a, b, "fade", -0.5), pair[2])
    assert np.array_equal(frame(compositor, a, b, "fade", 1.5), pair[3])


def test_unknown_transition_is_a_spec_error(make, pair):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    with pytest.raises(SpecError, match="unknown transition 'spin'"):
        compositor.render(FrameSpec(a, b, "spin", 0.5))
    with pytest.raises(SpecError, match="no parameter"):
        compositor.render(FrameSpec(a, b, "fade", 0.5, {"softness": 1.0}))
    with pytest.raises(SpecError, match="needs a transition"):
        compositor.render(FrameSpec(a, b))


def test_bad_inputs_say_what_is_wrong(make, pair):
    compositor = make(W, H)
    with pytest.raises(ValueError, match="compositor renders 128×72"):
        compositor.upload("small", random_image(64, 36))
    with pytest.raises(ValueError, match="uint8"):
        compositor.upload("floats", np.zeros((H, W, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="was not uploaded"):
        compositor.render(FrameSpec(SlideHandle("nobody", 0)))
    a, _ = upload_pair(compositor, pair)
    compositor.render(FrameSpec(a))
    with pytest.raises(ValueError, match="flat uint8 array"):
        compositor.read_nv12(np.empty((H, W), dtype=np.uint8))


def test_cpu_transitions_allocate_no_frame_sized_temporaries():
    # Whole-plane work goes through the compositor's scratch a block of rows at a time;
    # what a frame may allocate is a few vectors per row or column. A block of float32
    # is 256 KiB and the NV12 frame 3 MiB, so 256 KiB is a bound that neither fits.
    width, height = 1920, 1080
    compositor = CPUCompositor(width, height)
    a = compositor.upload("a", random_image(width, height, seed=3))
    b = compositor.upload("b", random_image(width, height, seed=4))
    out = np.empty(nv12_size(width, height), dtype=np.uint8)
    peaks = {}
    for name in BUILTIN:
        compositor.render(FrameSpec(a, b, name, 0.5))  # first use: the uv grids are made once
        tracemalloc.start()
        try:
            for progress in (0.3, 0.6):
                compositor.render(FrameSpec(a, b, name, progress))
                compositor.read_nv12(out)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    compositor.close()
    assert {name: peak for name, peak in peaks.items() if peak >= 256 * 1024} == {}


def test_odd_sizes_are_refused():
    with pytest.raises(ValueError, match="even"):
        CPUCompositor(127, 72)


def test_cpu_reading_before_rendering_and_after_closing_fails_clearly(pair):
    compositor = CPUCompositor(W, H)
    with pytest.raises(RenderError, match="before any frame"):
        read(compositor)
    compositor.close()
    compositor.close()
    with pytest.raises(RenderError, match="closed"):
        compositor.upload("a", pair[0])


# --- GL against numpy ----------------------------------------------------------------------


def assert_close(gl: np.ndarray, cpu: np.ndarray) -> None:
    diff = np.abs(gl.astype(int) - cpu)
    assert diff.max() <= MAX_DIFF, f"max difference {diff.max()}"
    assert np.mean(diff <= 1) >= MIN_WITHIN_ONE, f"{np.mean(diff > 1):.4%} of samples differ by more than 1"


@pytest.mark.gl
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gl_matches_cpu_on_every_builtin(gl_compositor, pair, case):
    name, params = case
    gl, cpu = gl_compositor(W, H), CPUCompositor(W, H)
    handles = [upload_pair(c, pair) for c in (gl, cpu)]
    for progress in PROGRESSES:
        outputs = [frame(c, a, b, name, progress, params) for c, (a, b) in zip((gl, cpu), handles)]
        assert_close(*outputs)


@pytest.mark.gl
@pytest.mark.parametrize(
    ("name", "progress", "params"),
    [
        ("fade", 0.5, {}),
        ("fadeblack", 0.3, {"color": (10, 250, 40)}),
        ("slideleft", 0.77, {}),
        ("wiperight", 0.3, {"softness": 0.2}),
        # 1082 wide: the chroma plane is 541 texels, one column right on the centre.
        ("slideup", 0.61, {}),
        ("circleopen", 0.4, {}),
        ("clockwipe", 0.6, {"softness": 0.1}),
        ("zoomin", 0.3, {}),
        ("dissolve", 0.5, {}),
        ("pixelize", 0.45, {}),
        ("blurfade", 0.5, {}),
        ("ripple", 0.5, {}),
        ("cube", 0.35, {"shadow": (10, 250, 40)}),
    ],
)
def test_gl_matches_cpu_at_a_width_that_is_not_a_multiple_of_4(gl_compositor, name, progress, params):
    width, height = 1082, 608
    a_image, b_image = random_image(width, height, seed=5), random_image(width, height, seed=6)
    gl, cpu = gl_compositor(width, height), CPUCompositor(width, height)
    outputs = []
    for compositor in (gl, cpu):
        a, b = compositor.upload("big-a", a_image), compositor.upload("big-b", b_image)
        outputs.append(frame(compositor, a, b, name, progress, params))
    assert_close(*outputs)


# --- GL specifics ---------------------------------------------------------------------------


@pytest.mark.gl
def test_gl_reports_what_it_runs_on(gl_compositor):
    compositor = gl_compositor(W, H)
    assert isinstance(compositor, Compositor)
    assert compositor.name == "gl"
    assert compositor.renderer
    software = any(word in compositor.renderer.lower() for word in ("llvmpipe", "softpipe", "swrast"))
    assert compositor.kind == ("gl-software" if software else "gl-gpu")


@pytest.mark.gl
def test_gl_transition_files_see_gl_transitions_coordinates(gl_compositor, monkeypatch):
    # A drop-in gl-transitions file expects uv.y = 1 at the top of the picture.
    gl_compositor(W, H)  # skips where there is no EGL
    import engine.composite.gl as gl_module

    top_half_is_target = "vec4 transition(vec2 uv) { return uv.y > 0.5 ? getToColor(uv) : getFromColor(uv); }"
    real = gl_module.shader_source
    monkeypatch.setattr(
        gl_module, "shader_source", lambda name: top_half_is_target if name == "transitions/fade.glsl" else real(name)
    )
    compositor = gl_module.GLCompositor(64, 36)
    try:
        a = compositor.upload("black", np.zeros((36, 64, 3), dtype=np.uint8))
        b = compositor.upload("white", np.full((36, 64, 3), 255, dtype=np.uint8))
        y, _ = nv12_planes(frame(compositor, a, b, "fade", 0.5), 64, 36)
        assert np.all(y[:18] == 235) and np.all(y[18:] == 16)
    finally:
        compositor.close()


@pytest.mark.gl
def test_gl_compiles_each_transition_once(gl_compositor, pair):
    compositor = gl_compositor(W, H)
    a, b = upload_pair(compositor, pair)
    frame(compositor, a, b, "slideright", 0.3)
    program = compositor._programs["slideright"]
    for progress in (0.4, 0.6):
        frame(compositor, a, b, "slideright", progress)
    assert compositor._programs["slideright"] is program


@pytest.mark.gl
def test_gl_close_is_safe_twice_and_refuses_work_after(gl_compositor):
    gl_compositor(W, H)  # skips where there is no EGL
    from engine.composite.gl import GLCompositor

    compositor = GLCompositor(64, 36)
    compositor.close()
    compositor.close()
    with pytest.raises(RenderError, match="closed"):
        compositor.upload("a", random_image(64, 36))


def test_gl_without_moderngl_is_backend_unavailable(monkeypatch):
    import sys

    from engine.composite.gl import GLCompositor

    monkeypatch.setitem(sys.modules, "moderngl", None)  # import raises ImportError
    with pytest.raises(BackendUnavailableError, match="moderngl"):
        GLCompositor(64, 36)


def test_gl_without_an_egl_device_is_backend_unavailable(monkeypatch):
    moderngl = pytest.importorskip("moderngl")
    from engine.composite.gl import GLCompositor

    def no_device(**kwargs):
        raise Exception("requested device index 0, but found 0 devices")  # noqa: TRY002 - as glcontext raises it

    monkeypatch.setattr(moderngl, "create_standalone_context", no_device)
    # As if EGL listed a GPU, so that "auto" really tries GL.
    monkeypatch.setattr("engine.composite.backends.only_software_gl", lambda: False)
    with pytest.raises(BackendUnavailableError, match="libegl1"):
        GLCompositor(64, 36)
    with pytest.raises(BackendUnavailableError):
        open_compositor("gl", 64, 36)
    fallbacks: list[str] = []
    assert open_compositor("auto", 64, 36, fallbacks).name == "cpu"
    assert "found 0 devices" in fallbacks[0]


def test_auto_skips_software_gl_and_says_why(monkeypatch):
    monkeypatch.setattr("engine.composite.backends.only_software_gl", lambda: True)
    fallbacks: list[str] = []
    assert open_compositor("auto", 64, 36, fallbacks).name == "cpu"
    assert "software" in fallbacks[0]


@pytest.mark.gl
def test_auto_that_finds_software_gl_only_on_creation_uses_cpu(monkeypatch, gl_compositor):
    if gl_compositor(64, 36).kind != "gl-software":
        pytest.skip("this machine's EGL device is a GPU")
    monkeypatch.setattr("engine.composite.backends.only_software_gl", lambda: False)  # devices unlisted
    fallbacks: list[str] = []
    assert open_compositor("auto", 64, 36, fallbacks).name == "cpu"
    assert "software rendering" in fallbacks[0]


def test_named_gl_runs_even_where_it_is_software(gl_compositor):
    gl_compositor(16, 16)  # skips where there is no EGL at all
    compositor = open_compositor("gl", 64, 36)
    try:
        assert compositor.name == "gl" and compositor.kind in {"gl-gpu", "gl-software"}
    finally:
        compositor.close()


def test_egl_probing_never_fails(monkeypatch):
    from engine.composite import _egl

    _egl.list_devices.cache_clear()
    try:
        devices = _egl.list_devices()
        assert all(device.index == i for i, device in enumerate(devices))
        index = _egl.preferred_device_index()
        assert index is None or devices[index].is_nvidia

        def broken():
            raise OSError("libEGL.so.1: cannot open shared object file")

        _egl.list_devices.cache_clear()
        monkeypatch.setattr(_egl, "_load_libegl", broken)
        assert _egl.list_devices() == ()
        assert _egl.preferred_device_index() is None
    finally:
        _egl.list_devices.cache_clear()


@pytest.mark.gl
def test_pbo_readback_gives_the_frames_a_direct_read_does(gl_compositor, pair):
    gl_compositor(16, 16)  # skips, saying why, where there is no EGL
    from engine.composite.gl import GLCompositor

    frames = {}
    for readback in ("direct", "pbo"):
        compositor = GLCompositor(W, H, readback=readback)
        assert compositor.readback == readback
        a, b = upload_pair(compositor, pair, tag=readback)
        # Several frames in a row: the two buffers take turns.
        frames[readback] = [frame(compositor, a, b, "wipeleft", p, {"softness": 0.1}) for p in (0.2, 0.5, 0.8)]
        compositor.close()
    for direct, pbo in zip(frames["direct"], frames["pbo"]):
        assert np.array_equal(direct, pbo)
    assert not np.array_equal(frames["pbo"][0], frames["pbo"][1])
