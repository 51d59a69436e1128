"""engine.composite.resample against the fixed-point formula of motion.frag, texel for texel."""

from __future__ import annotations

import numpy as np
import pytest

from engine.composite.resample import Scratch, Taps, across, down, pairs, taps


def formula(back: np.ndarray, columns, rows) -> np.ndarray:
    """The module docstring's integers, written out plainly (uint64, no shortcuts)."""
    t = back.astype(np.uint64)
    along = (1,) * (back.ndim - 2)  # (a chroma texel's two channels share the weights)
    c0, c1 = (w.astype(np.uint64).reshape((-1,) + along) for w in (columns.w0, columns.w1))
    b = (t[:, columns.i0] * c0 + t[:, columns.i1] * c1 + 128) >> 8
    w0 = rows.w0.astype(np.uint64).reshape((-1,) + (1,) * (back.ndim - 1))
    w1 = rows.w1.astype(np.uint64).reshape(w0.shape)
    return ((b[rows.i0] * w0 + b[rows.i1] * w1 + 128) >> 8).astype(np.uint8)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("scale", [0.83, 0.97, 1.0, 1.21])
def test_across_then_down_is_the_formula_byte_for_byte(channels, scale):
    rng = np.random.default_rng(7)
    height, width = 61, 83
    shape = (height, width) if channels == 1 else (height, width, 2)
    back = rng.integers(0, 256, shape, dtype=np.uint8)
    back[:3] = 255  # extremes: the largest h and products
    back[-3:] = 0
    offset = 0.37 if scale == 1.0 else 1.9
    columns = taps(width, scale, offset, width)
    rows = taps(height, scale, offset * 0.5, height)
    assert columns is not None and rows is not None
    work = Scratch(16, 16 * width * 2)
    joined = pairs(back) if scale != 1.0 else None
    out = np.empty_like(back)
    mixed = across(back, columns, rows, (0, height, 0, width), work, joined)
    for r0 in range(0, height, 16):
        down(out[r0 : r0 + 16], mixed, rows, r0, min(height, r0 + 16), work)
    np.testing.assert_array_equal(out, formula(back, columns, rows))


@pytest.mark.parametrize("channels", [1, 2])
def test_rows_alone_moving_is_the_formula_byte_for_byte(channels):
    """Columns at rest (no taps across: each frame column is its back column), rows zoomed."""
    rng = np.random.default_rng(5)
    height, width = 61, 83
    shape = (height, width) if channels == 1 else (height, width, 2)
    back = rng.integers(0, 256, shape, dtype=np.uint8)
    back[:2] = 255
    assert taps(width, 1.0, 0.0, width) is None
    rows = taps(height, 0.83, 1.9, height)
    assert rows is not None
    work = Scratch(16, 16 * width * 2)
    out = np.empty_like(back)
    mixed = across(back, None, rows, (0, height, 0, width), work)
    for r0 in range(0, height, 16):
        down(out[r0 : r0 + 16], mixed, rows, r0, min(height, r0 + 16), work)
    index = np.arange(width)
    at_rest = Taps(index, index, np.full(width, 256), np.zeros(width, np.int64), np.empty(0, np.intp))
    np.testing.assert_array_equal(out, formula(back, at_rest, rows))


def test_pairs_has_none_for_three_channels():
    assert pairs(np.zeros((2, 3, 3), dtype=np.uint8)) is None


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("scale", [0.83, 1.0, 1.21])
def test_a_window_inside_the_plane_is_the_formula_byte_for_byte(channels, scale):
    """A static layer's open box: the window starts off the plane's edges and has an odd width."""
    rng = np.random.default_rng(11)
    height, width = 70, 91
    shape = (height, width) if channels == 1 else (height, width, 2)
    back = rng.integers(0, 256, shape, dtype=np.uint8)
    columns = taps(width, scale, 2.3, width)
    rows = taps(height, scale, 0.7, height)
    assert columns is not None and rows is not None
    work = Scratch(16, 16 * width * 2)
    joined = pairs(back) if scale != 1.0 else None
    top, bottom, left, right = 5, 63, 7, 80
    out = np.zeros_like(back)
    mixed = across(back, columns, rows, (top, bottom, left, right), work, joined)
    for r0 in range(top, bottom, 16):
        r1 = min(bottom, r0 + 16)
        down(out[r0:r1, left:right], mixed, rows, r0, r1, work)
    expected = formula(back, columns, rows)
    np.testing.assert_array_equal(out[top:bottom, left:right], expected[top:bottom, left:right])


def test_luma_pairs_hold_two_rows_each_the_last_repeated_where_the_height_is_odd():
    back = np.arange(5 * 4, dtype=np.uint8).reshape(5, 4) * 7
    joined = pairs(back)
    assert joined is not None and joined.shape == (3, 4) and joined.dtype == np.uint32
    right = np.concatenate([back[:, 1:], back[:, -1:]], axis=1).astype(np.uint32)
    texel = back.astype(np.uint32) | right << 8  # each texel with its right neighbour
    np.testing.assert_array_equal(joined[:2], texel[0:4:2] | texel[1:4:2] << 16)
    np.testing.assert_array_equal(joined[2], texel[4] | texel[4] << 16)


@pytest.mark.parametrize("rows_per_block", [1, 5, 16])
@pytest.mark.parametrize("top", [0, 3])
def test_luma_two_rows_a_gather_is_the_formula_from_odd_rows_and_odd_blocks(rows_per_block, top):
    """Luma gathers two rows at once: a window from an odd row, blocks of odd rows, an odd height."""
    rng = np.random.default_rng(5)
    height, width = 47, 59
    back = rng.integers(0, 256, (height, width), dtype=np.uint8)
    columns = taps(width, 1.17, 0.9, width)
    rows = taps(height, 0.91, 1.3, height)
    assert columns is not None and rows is not None
    work = Scratch(rows_per_block, rows_per_block * width * 2)
    out = np.zeros_like(back)
    mixed = across(back, columns, rows, (top, height, 0, width), work, pairs(back))
    for r0 in range(top, height, rows_per_block):
        r1 = min(height, r0 + rows_per_block)
        down(out[r0:r1], mixed, rows, r0, r1, work)
    np.testing.assert_array_equal(out[top:], formula(back, columns, rows)[top:])
