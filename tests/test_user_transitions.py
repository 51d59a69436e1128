"""User gl-transitions files, run by the GL compositor on llvmpipe (or a GPU)."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine
from engine import cli
from engine.colour import nv12_size, nv12_to_rgb
from engine.composite import COMPOSITORS, FrameSpec, open_compositor
from engine.errors import BackendUnavailableError, SpecError
from engine.registry import Entry
from engine.usershader import read_user_transition, resolve_user_params, user_transition_key

DATA = Path(__file__).parent / "data" / "transitions"
W, H = 64, 32  # bands of 8 rows: edges fall between chroma row pairs
RED, BLUE = (200, 50, 50), (40, 80, 200)

pytestmark = pytest.mark.gl


@pytest.fixture
def compositor(gl_compositor):
    gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    comp = open_compositor("gl", W, H, glsl_files=[DATA / "ShutterBlinds.glsl"])
    source = comp.upload("red", np.full((H, W, 3), RED, np.uint8))
    target = comp.upload("blue", np.full((H, W, 3), BLUE, np.uint8))
    yield comp, source, target
    comp.close()


def frame(comp, source, target, file, progress, params):
    comp.render(FrameSpec(source, target, user_transition_key(file), progress, params))
    buffer = np.empty(nv12_size(W, H), np.uint8)
    comp.read_nv12(buffer)
    return nv12_to_rgb(buffer, W, H).astype(int)


def is_colour(pixels, rgb):
    return np.abs(pixels - np.array(rgb)).max(axis=-1) <= 3


def test_int_bool_and_vec_parameters_reach_the_shader(compositor):
    comp, source, target = compositor
    file = DATA / "ShutterBlinds.glsl"
    params = resolve_user_params(read_user_transition(file), {"count": 4})
    image = frame(comp, source, target, file, 0.5, params)
    rows = is_colour(image[:, W // 2], BLUE)
    # Four bands, each open on its first half (from the top, fromBottom = false).
    assert rows.tolist() == ([True] * 4 + [False] * 4) * 4
    flipped = frame(comp, source, target, file, 0.5, {**params, "fromBottom": True})
    assert is_colour(flipped[:, W // 2], BLUE).tolist() == rows[::-1].tolist()


def test_progress_0_and_1_give_exactly_the_slides(compositor):
    comp, source, target = compositor
    file = DATA / "ShutterBlinds.glsl"
    params = resolve_user_params(read_user_transition(file), {})
    assert is_colour(frame(comp, source, target, file, 0.0, params), RED).all()
    assert is_colour(frame(comp, source, target, file, 1.0, params), BLUE).all()


def test_sampler2d_parameter_takes_an_image_file_upright(compositor, tmp_path):
    comp, source, target = compositor
    matte = np.zeros((H, W), np.uint8)
    matte[: H // 2] = 255  # white top half: revealed last
    Image.fromarray(matte).save(tmp_path / "matte.png")
    file = DATA / "LumaMatte.glsl"
    params = resolve_user_params(read_user_transition(file), {"luma": str(tmp_path / "matte.png")})
    image = frame(comp, source, target, file, 0.5, params)
    assert is_colour(image[H - 4 :], BLUE).all()  # dark bottom: already the next slide
    assert is_colour(image[:4], RED).all()  # white top: still the current one


@pytest.mark.parametrize("resize", ["stretch", "cover", "contain"])
def test_resize_fits_an_image_of_another_shape_to_the_frame(compositor, tmp_path, resize):
    comp, source, target = compositor
    matte = np.zeros((H, 4 * W), np.uint8)  # twice as wide as the frame's shape
    matte[:, :W] = 255  # its left quarter white: revealed last
    Image.fromarray(matte).save(tmp_path / "wide.png")
    file = DATA / "LumaMatte.glsl"
    params = resolve_user_params(read_user_transition(file), {"luma": str(tmp_path / "wide.png")})
    image = frame(comp, source, target, file, 0.5, {**params, "__resize": resize})
    left, right = image[H // 2, 2], image[H // 2, W - 3]
    assert is_colour(right, BLUE)
    if resize == "cover":  # the centre of the image: all dark
        assert is_colour(left, BLUE)
    else:  # stretched or whole, its white quarter stays on the left
        assert is_colour(left, RED)
    if resize == "contain":  # transparent bands above and below the fitted image
        assert is_colour(image[1, 2], BLUE)


def test_resize_is_a_deck_option_of_files_only(tmp_path):
    (tmp_path / "matte.png").write_bytes((DATA.parent.parent / "golden" / "transitions" / "fade.png").read_bytes())
    file = str(DATA / "LumaMatte.glsl")
    deck = {
        "slides": [
            {"kind": "title", "title": "A"},
            {
                "kind": "title",
                "title": "B",
                "transition": {"file": file, "params": {"luma": "matte.png"}, "resize": "cover"},
            },
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    timings = engine.load_deck(tmp_path / "deck.json").timings()
    assert timings[1].transition_params["__resize"] == "cover"
    deck["slides"][1]["transition"] = {"name": "fade", "resize": "cover"}
    with pytest.raises(SpecError, match="resize applies to the images of a transition file") as caught:
        engine.load_deck(deck)
    assert caught.value.path == "slides[1].transition.resize"


def test_a_file_that_does_not_compile_is_a_spec_error_naming_file_and_line(compositor):
    comp, source, target = compositor
    with pytest.raises(SpecError, match=r"Broken\.glsl:8: does not compile: .*undeclaredAmount"):
        frame(comp, source, target, DATA / "Broken.glsl", 0.5, {"amount": 1.0})


def test_cli_compile_error_is_one_line_with_the_slide_and_leaves_nothing(tmp_path, capsys):
    deck = {
        "slides": [
            {"kind": "title", "title": "A", "duration": 2},
            {
                "kind": "title",
                "title": "B",
                "duration": 2,
                "transition": {"file": str(DATA / "Broken.glsl"), "duration": 1},
            },
        ]
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["render", str(tmp_path / "deck.json"), "-p", "320x180@10", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("reel: error: slides[1].transition.file: Broken.glsl:8:") and "\n" not in err
    assert list(out.iterdir()) == []


def test_a_render_with_a_user_file_uses_gl_even_where_auto_would_pick_cpu(tmp_path, gl_compositor):
    gl_compositor(16, 16)
    deck = {
        "slides": [
            {"kind": "title", "title": "A", "duration": 2, "background": "#c83232"},
            {
                "kind": "title",
                "title": "B",
                "duration": 2,
                "background": "#2850c8",
                "transition": {"file": str(DATA / "ShutterBlinds.glsl"), "duration": 1, "params": {"count": 3}},
            },
        ]
    }
    report = engine.render(deck, tmp_path / "user.mp4", platform="320x180@10")
    assert report.compositor.startswith("gl") and report.frames == 30


def test_no_gl_at_all_gives_backend_unavailable_with_the_reason(monkeypatch):
    monkeypatch.setitem(COMPOSITORS.table, "gl", Entry("engine.composite.nope:Nope"))
    with pytest.raises(
        BackendUnavailableError, match="Broken.glsl is GLSL and needs the gl compositor, which cannot start"
    ):
        open_compositor("auto", W, H, glsl_files=[DATA / "Broken.glsl"])
    with pytest.raises(BackendUnavailableError, match="drop --compositor cpu"):
        open_compositor("cpu", W, H, glsl_files=[DATA / "Broken.glsl"])
