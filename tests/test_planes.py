"""engine.composite.planes: a front layer converts only its inked box, with the same planes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.composite.planes import _convert_front, front_planes


def _whole(rgba: np.ndarray):
    """The conversion over the whole frame, as before the box: the reference."""
    h, w = rgba.shape[:2]
    y = np.empty((h, w), np.uint8)
    uv = np.empty((h // 2, w // 2, 2), np.uint8)
    alpha_uv = np.empty((h // 2, w // 2), np.uint8)
    _convert_front(rgba, y, uv, alpha_uv)
    return y, uv, alpha_uv


@pytest.mark.parametrize(
    "box",
    [
        (0, 0, 64, 48),  # the whole frame
        (0, 1, 1, 2),  # one pixel at the left edge
        (5, 3, 6, 4),  # one pixel at an odd row and column
        (10, 17, 63, 40),  # up to the right edge, odd rows
        (2, 47, 33, 48),  # the bottom row, near the left
        (20, 30, 21, 31),
    ],
)
def test_the_inked_box_converts_as_the_whole_frame_does(box):
    rng = np.random.default_rng(sum(box))
    h, w = 48, 64
    rgba = np.zeros((h, w, 4), np.uint8)
    left, top, right, bottom = box
    patch = rng.integers(0, 256, (bottom - top, right - left, 4), dtype=np.uint8)
    patch[rng.random(patch.shape[:2]) < 0.3, 3] = 0  # transparent texels with colour, too
    rgba[top:bottom, left:right] = patch
    planes = front_planes(rgba)
    y, uv, alpha_uv = _whole(rgba)
    assert np.array_equal(planes.y, y)
    assert np.array_equal(planes.uv, uv)
    assert np.array_equal(planes.alpha_uv, alpha_uv)
    assert np.array_equal(planes.alpha, rgba[..., 3])


def test_an_empty_layer_is_black_video_range_and_transparent():
    planes = front_planes(np.zeros((8, 10, 4), np.uint8))
    assert (planes.y == 16).all() and (planes.uv == 128).all()
    assert not planes.alpha.any() and not planes.alpha_uv.any()


@pytest.mark.parametrize("box", [(0, 0, 64, 48), (0, 1, 1, 2), (10, 17, 63, 40), (20, 30, 21, 31)])
def test_black_ink_sites_its_alpha_alone_with_the_same_planes(box):
    # A silhouette's ink is black: front_planes skips the colour arithmetic, and every
    # plane must still be what the full conversion over the whole frame gives.
    rng = np.random.default_rng(7 + sum(box))
    h, w = 48, 64
    rgba = np.zeros((h, w, 4), np.uint8)
    left, top, right, bottom = box
    rgba[top:bottom, left:right, 3] = rng.integers(0, 256, (bottom - top, right - left), dtype=np.uint8)
    rgba[top:bottom, left:right, 3][rng.random((bottom - top, right - left)) < 0.2] = 255
    planes = front_planes(rgba)
    y, uv, alpha_uv = _whole(rgba)
    assert np.array_equal(planes.y, y) and (y == 16).all()
    assert np.array_equal(planes.uv, uv) and (uv == 128).all()
    assert np.array_equal(planes.alpha_uv, alpha_uv) and alpha_uv.any()


def test_one_coloured_texel_takes_the_colour_path():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[4:8, 4:8, 3] = 200
    rgba[5, 5, :3] = (255, 0, 0)  # one red texel among black ones
    planes = front_planes(rgba)
    y, uv, alpha_uv = _whole(rgba)
    assert np.array_equal(planes.y, y) and planes.y[5, 5] > 16
    assert np.array_equal(planes.uv, uv) and np.array_equal(planes.alpha_uv, alpha_uv)


def test_a_chroma_texel_reveals_when_the_last_of_its_four_pixels_does():
    from engine.composite.planes import _reveal_planes
    from engine.raster.layers import RevealLayer

    rng = np.random.default_rng(3)
    h, w = 48, 64
    times = rng.integers(0, 1000, (h, w), dtype=np.uint16)
    image = np.zeros((h, w, 4), np.uint8)
    image[10:20, 8:40] = 255
    planes = _reveal_planes(RevealLayer(image=image, base=np.zeros_like(image), times=times, fades=False))
    expected = times.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))
    assert np.array_equal(planes.times_uv, expected) and planes.times_uv.flags.c_contiguous
