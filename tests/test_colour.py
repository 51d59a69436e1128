"""BT.709 limited-range NV12: the numpy reference, and the GL conversion shader against it."""

from __future__ import annotations

import numpy as np
import pytest

from engine import colour
from engine.colour import nv12_planes, nv12_size, nv12_to_rgb, rgb_to_nv12, rgb_to_yuv
from engine.composite.base import FrameSpec

# sRGB → (Y, Cb, Cr) code values, BT.709 limited range (published tables agree).
SOLIDS = {
    "white": ((255, 255, 255), (235, 128, 128)),
    "black": ((0, 0, 0), (16, 128, 128)),
    "grey": ((128, 128, 128), (126, 128, 128)),
    "red": ((255, 0, 0), (63, 102, 240)),
    "green": ((0, 255, 0), (173, 42, 26)),
    "blue": ((0, 0, 255), (32, 240, 118)),
}


def solid(rgb, width=64, height=36, channels=3) -> np.ndarray:
    image = np.empty((height, width, channels), dtype=np.uint8)
    image[...] = (*rgb, 255)[:channels]
    return image


def random_image(width, height, channels=3, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.mark.parametrize("name", SOLIDS)
def test_rgb_to_nv12_gives_bt709_limited_range_codes_for_solid_colours(name):
    rgb, (y, cb, cr) = SOLIDS[name]
    y_plane, uv_plane = nv12_planes(rgb_to_nv12(solid(rgb)), 64, 36)
    assert np.all(y_plane == y)
    assert np.all(uv_plane[..., 0] == cb)
    assert np.all(uv_plane[..., 1] == cr)


@pytest.mark.parametrize("name", SOLIDS)
def test_rgb_to_yuv_rounds_to_the_same_codes_as_the_planes(name):
    rgb, expected = SOLIDS[name]
    assert tuple(np.floor(rgb_to_yuv(rgb) + 0.5).astype(int)) == expected


@pytest.mark.parametrize("name", SOLIDS)
def test_nv12_to_rgb_round_trips_solid_colours(name):
    rgb = SOLIDS[name][0]
    back = nv12_to_rgb(rgb_to_nv12(solid(rgb)), 64, 36)
    assert np.abs(back.astype(int) - rgb).max() <= 2


def test_alpha_is_ignored():
    rgba = random_image(64, 36, channels=4, seed=3)
    assert np.array_equal(rgb_to_nv12(rgba), rgb_to_nv12(np.ascontiguousarray(rgba[..., :3])))


def test_nv12_planes_are_views_of_one_buffer():
    buffer = np.zeros(nv12_size(64, 36), dtype=np.uint8)
    y_plane, uv_plane = nv12_planes(buffer, 64, 36)
    assert y_plane.shape == (36, 64) and uv_plane.shape == (18, 32, 2)
    y_plane[0, 0], uv_plane[-1, -1, 1] = 7, 9
    assert buffer[0] == 7 and buffer[-1] == 9


def test_chroma_is_left_sited_with_a_121_filter():
    # One red column at x = 2 (even) lands wholly on chroma sample 1 at weight 2/4;
    # at x = 3 (odd) it is shared by samples 1 and 2 at 1/4 each.
    cr_full = 240 - 128
    for column, expected in ((2, {1: 2 / 4}), (3, {1: 1 / 4, 2: 1 / 4})):
        image = np.zeros((4, 16, 3), dtype=np.uint8)
        image[:, column] = (255, 0, 0)
        _, uv_plane = nv12_planes(rgb_to_nv12(image), 16, 4)
        cr = uv_plane[0, :, 1].astype(int)
        for sample in range(8):
            want = 128 + cr_full * expected.get(sample, 0.0)
            assert abs(cr[sample] - want) <= 1, (column, sample, cr.tolist())


# --- the GL conversion shader ------------------------------------------------------------

SIZES = [(64, 36), (128, 72), (1082, 608)]  # 1082: chroma rows of 541 texels, unaligned


def gl_planes(compositor, key, image) -> np.ndarray:
    compositor.render(FrameSpec(compositor.upload(key, image)))
    out = np.empty(nv12_size(compositor.width, compositor.height), dtype=np.uint8)
    compositor.read_nv12(out)
    return out


@pytest.mark.gl
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("channels", [3, 4])
def test_gl_conversion_matches_numpy_on_random_images(gl_compositor, size, channels):
    width, height = size
    compositor = gl_compositor(width, height)
    image = random_image(width, height, channels, seed=width + channels)
    diff = gl_planes(compositor, f"random-{channels}", image).astype(int) - rgb_to_nv12(image)
    assert np.abs(diff).max() <= 1
    assert np.mean(diff == 0) >= 0.999


@pytest.mark.gl
@pytest.mark.parametrize("name", SOLIDS)
def test_gl_conversion_matches_numpy_on_solid_colours(gl_compositor, name):
    compositor = gl_compositor(128, 72)
    image = solid(SOLIDS[name][0], 128, 72)
    diff = gl_planes(compositor, f"solid-{name}", image).astype(int) - rgb_to_nv12(image)
    assert np.abs(diff).max() <= 1


@pytest.mark.gl
def test_gl_conversion_keeps_rows_top_down_and_chroma_left_sited(gl_compositor):
    compositor = gl_compositor(64, 36)
    image = np.zeros((36, 64, 3), dtype=np.uint8)
    image[:2] = (255, 255, 255)  # top rows white: must come back first, unflipped
    image[:, 3] = (255, 0, 0)  # an odd column: split between two chroma samples
    out = gl_planes(compositor, "orientation", image)
    assert np.array_equal(out, rgb_to_nv12(image))


def test_shader_coefficients_are_the_colour_modules():
    from engine.composite.gl import bt709_rows

    assert np.array_equal(bt709_rows(), colour.BT709_RGB_TO_YCBCR.astype(np.float32))


def _rgb_to_nv12_reference(image: np.ndarray) -> np.ndarray:
    """The conversion as first written (one concatenate and fresh temporaries per step)."""
    h, w = image.shape[:2]
    m = colour.BT709_RGB_TO_YCBCR.astype(np.float32)
    out = np.empty(nv12_size(w, h), dtype=np.uint8)
    y_plane, uv_plane = nv12_planes(out, w, h)
    for top in range(0, h, 64):
        rgb = image[top : top + 64, :, :3].astype(np.float32) * np.float32(1 / 255)
        y_plane[top : top + 64] = colour.quantise(16 + 219 * (rgb @ m[0]))
        rows = (rgb[0::2] + rgb[1::2]) * np.float32(0.5)
        left = np.concatenate([rows[:, :1], rows[:, 1:-1:2]], axis=1)
        sited = (left + 2 * rows[:, 0::2] + rows[:, 1::2]) * np.float32(0.25)
        chroma = uv_plane[top // 2 : (top + 64) // 2]
        chroma[..., 0] = colour.quantise(128 + 224 * (sited @ m[1]))
        chroma[..., 1] = colour.quantise(128 + 224 * (sited @ m[2]))
    return out


@pytest.mark.parametrize(
    ("width", "height", "channels"), [(1920, 1080, 3), (2074, 1166, 3), (2, 2, 3), (638, 190, 4), (1280, 720, 4)]
)
def test_rgb_to_nv12_is_byte_identical_to_the_reference_on_random_images(width, height, channels):
    image = random_image(width, height, channels, seed=width + height)
    assert np.array_equal(rgb_to_nv12(image), _rgb_to_nv12_reference(image))


def test_rgb_to_nv12_is_byte_identical_to_the_reference_on_smooth_and_extreme_images():
    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 255, 1920, dtype=np.float32)
    smooth = np.stack([ramp[None, :] * (k + 1) / 4 + np.arange(1080)[:, None] / 8 for k in range(3)], axis=-1)
    images = [
        np.clip(smooth, 0, 255).astype(np.uint8),
        rng.choice(np.array([0, 1, 127, 128, 254, 255], np.uint8), (1080, 1920, 3)),
        np.ascontiguousarray(random_image(1920, 1080, 4, seed=3)[..., :3]),
    ]
    for image in images:
        assert np.array_equal(rgb_to_nv12(image), _rgb_to_nv12_reference(image))
