"""Compositors: holds, every built-in transition on both backends, and GL against numpy.

Tolerances: the GL and CPU compositors must agree within ±1 code value on at least
99.9 % of NV12 samples and within 3 codes anywhere (ties and float contraction may
round differently on other drivers; on llvmpipe they agree bit for bit). Progress 0
and 1 must give the source and the target exactly, on both.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.colour import nv12_planes, nv12_size, rgb_to_nv12, rgb_to_yuv
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
]
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
    [("wipeleft", "right"), ("wiperight", "left"), ("slideleft", "right"), ("slideright", "left")],
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


@pytest.mark.parametrize("softness", [-0.5, 1e-9])
def test_wipes_with_odd_softness_still_end_on_the_target(make, pair, softness):
    compositor = make(W, H)
    a, b = upload_pair(compositor, pair)
    for name in ("wipeleft", "wiperight"):
        assert np.array_equal(frame(compositor, a, b, name, 1.0, {"softness": softness}), pair[3])
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
    [("fade", 0.5, {}), ("fadeblack", 0.3, {"color": (10, 250, 40)}), ("slideleft", 0.77, {}), ("wiperight", 0.3, {"softness": 0.2})],
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
    monkeypatch.setattr(gl_module, "shader_source", lambda name: top_half_is_target if name == "transitions/fade.glsl" else real(name))
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
        raise Exception("requested device index 0, but found 0 devices")

    monkeypatch.setattr(moderngl, "create_standalone_context", no_device)
    # As if EGL listed a GPU, so that "auto" really tries GL.
    monkeypatch.setattr("engine.composite._only_software_gl", lambda: False)
    with pytest.raises(BackendUnavailableError, match="libegl1"):
        GLCompositor(64, 36)
    with pytest.raises(BackendUnavailableError):
        open_compositor("gl", 64, 36)
    fallbacks: list[str] = []
    assert open_compositor("auto", 64, 36, fallbacks).name == "cpu"
    assert "found 0 devices" in fallbacks[0]


def test_auto_skips_software_gl_and_says_why(monkeypatch):
    monkeypatch.setattr("engine.composite._only_software_gl", lambda: True)
    fallbacks: list[str] = []
    assert open_compositor("auto", 64, 36, fallbacks).name == "cpu"
    assert "software" in fallbacks[0]


@pytest.mark.gl
def test_auto_that_finds_software_gl_only_on_creation_uses_cpu(monkeypatch, gl_compositor):
    if gl_compositor(64, 36).kind != "gl-software":
        pytest.skip("this machine's EGL device is a GPU")
    monkeypatch.setattr("engine.composite._only_software_gl", lambda: False)  # devices unlisted
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
