"""The back layer through a moving window: motion.frag's fixed-point bilinear, in numpy.

Along each axis a frame texel's centre X maps to the back position
``p = (X + ½)·s + o − ½`` (float32, clamped to [0, n − 1]), which is then quantised to
1/256 of a texel: ``q = floor(p·256 + ½)``, ``i0 = q >> 8``, ``f = q & 255``,
``i1 = min(i0 + 1, n − 1)``. The texels are then mixed in integers:

    h = t(i0)·(256 − fx) + t(i1)·fx                         per back row, 0..65280
    v = (h(y0)·(256 − fy) + h(y1)·fy + 32768) >> 16         a byte, rounded once

``shaders/motion.frag`` does the same in uint arithmetic, which GLSL computes exactly,
so the compositors agree bit for bit wherever they compute the same float positions
(llvmpipe does: tested). Here ``h + 128`` is a uint16
array (at most 65408), computed once per back row the window reads (`across`): the
columns' taps are the same for every row. Each frame row then blends two of those rows
down (`down`) in uint32, where the 128 (times weights summing to 256) is the 32768.
Against float bilinear the byte differs by at most one code: the position moves by at
most 1/512 texel, the value by under one code before its one rounding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import prod

import numpy as np

__all__ = ["Scratch", "Taps", "across", "down", "pairs", "scattered", "taps"]

_F = np.float32
_ONE = 256  # the weights' unit: positions in 1/256 texel
_BIAS = 128  # added to each h: ½ code once `down` has weighted it by 256 (the one rounding)


class Scratch:
    """One thread's buffers: five float, three uint16, two uint32 and one byte block, and the rows `across` makes."""

    def __init__(self, rows: int, size: int) -> None:
        self.rows = rows
        self.floats = np.empty((5, size), dtype=np.float32)
        self.ints = np.empty((3, size), dtype=np.uint16)
        self.wide = np.empty((2, size), dtype=np.uint32)
        self.bytes = np.empty(size, dtype=np.uint8)
        self._across = np.empty(0, dtype=np.uint16)

    def float_block(self, k: int, shape) -> np.ndarray:
        return self.floats[k, : prod(shape)].reshape(shape)

    def int_block(self, k: int, shape) -> np.ndarray:
        return self.ints[k, : prod(shape)].reshape(shape)

    def wide_block(self, k: int, shape) -> np.ndarray:
        return self.wide[k, : prod(shape)].reshape(shape)

    def byte_block(self, shape) -> np.ndarray:
        return self.bytes[: prod(shape)].reshape(shape)

    def across(self, shape) -> np.ndarray:
        """Room for the back rows interpolated across (`across`), grown to the largest need."""
        size = prod(shape)
        if self._across.size < size:
            self._across = np.empty(size, dtype=np.uint16)
        return self._across[:size].reshape(shape)


@dataclass(frozen=True)
class Taps:
    """Along one axis, per frame texel: the two back texels and their weights (sum 256)."""

    i0: np.ndarray  # intp
    i1: np.ndarray
    w0: np.ndarray  # 256 − f
    w1: np.ndarray  # f


def taps(size: int, scale, offset, back_size: int, dtype=np.uint16) -> Taps | None:
    """The `Taps` of `size` frame texels along an axis of the back layer; None at rest."""
    if scale == _F(1) and offset == _F(0) and size == back_size:
        return None
    position = (np.arange(size, dtype=np.float32) + _F(0.5)) * _F(scale) + _F(offset) - _F(0.5)
    position = np.clip(position, _F(0), _F(back_size - 1))
    q = np.floor(position * _F(_ONE) + _F(0.5)).astype(np.intp)
    i0, f = q >> 8, q & (_ONE - 1)
    return Taps(i0, np.minimum(i0 + 1, back_size - 1), (_ONE - f).astype(dtype), f.astype(dtype))


def scattered(columns: Taps) -> bool:
    """Do the columns read more than a few runs of consecutive back columns (a zoom), so `across` gathers?"""
    return _runs(columns.i0, columns.i1) is None


def pairs(back: np.ndarray) -> np.ndarray:
    """A luma plane's texels each with its right neighbour (the last with itself), as uint16.

    ``t(x) | t(min(x + 1, w − 1)) << 8``: one gather fetches both texels a column mixes,
    which halves the work of a zoom's gathers (scattered single bytes cost per byte).
    """
    joined = back.astype(np.uint16)
    joined[:, :-1] |= joined[:, 1:] << 8
    joined[:, -1] |= joined[:, -1] << 8
    return joined


def across(back: np.ndarray, columns: Taps | None, rows: Taps | None, window, work: Scratch, joined=None):
    """(first row, h + 128): each back row the window reads, mixed across to its columns (uint16).

    Where the window's columns read runs of consecutive back columns (a drift: the scale
    is about 1), slices replace gathers; elsewhere `joined` (luma's `pairs`, or None)
    gathers both texels of a column at once.
    """
    a, b, c0, c1 = window
    if rows is None:  # the frame's rows are the back layer's
        first, last = a, b
    else:
        first, last = int(rows.i0[a:b].min()), int(rows.i1[a:b].max()) + 1
    h = work.across((last - first, c1 - c0) + back.shape[2:])
    if columns is None:
        np.multiply(back[first:last, c0:c1], np.uint16(_ONE), out=h, dtype=np.uint16)
        np.add(h, np.uint16(_BIAS), out=h)
        return first, h
    x0, x1 = columns.i0[c0:c1], columns.i1[c0:c1]
    # Chroma's (Cb, Cr) as one row of 2·n values, each weight repeated: a trailing axis
    # of 2 against a broadcast weight costs numpy ten times the work.
    channels = prod(back.shape[2:])
    w0, w1 = (np.repeat(w[c0:c1], channels)[None, :] for w in (columns.w0, columns.w1))
    runs = _runs(x0, x1)
    for r0 in range(first, last, work.rows):
        r1 = min(last, r0 + work.rows)
        block = _flat(h[r0 - first : r1 - first])
        right = work.int_block(0, block.shape)
        if runs is None and joined is not None:
            both = work.int_block(1, block.shape)
            np.take(joined[r0:r1], x0, axis=1, out=both)
            np.bitwise_and(both, np.uint16(0xFF), out=block)
            np.multiply(block, w0, out=block)
            np.right_shift(both, 8, out=right)
            np.multiply(right, w1, out=right)
        elif runs is None:
            np.multiply(_flat(_take_columns(back[r0:r1], x0)), w0, out=block)
            np.multiply(_flat(_take_columns(back[r0:r1], x1)), w1, out=right)
        else:
            for i, j, k0, k1 in runs:
                n0, n1, m = i * channels, j * channels, (j - i)
                np.multiply(_flat(back[r0:r1, k0 : k0 + m]), w0[:, n0:n1], out=block[:, n0:n1])
                np.multiply(_flat(back[r0:r1, k1 : k1 + m]), w1[:, n0:n1], out=right[:, n0:n1])
        np.add(block, right, out=block)
        np.add(block, np.uint16(_BIAS), out=block)
    return first, h


def _flat(block: np.ndarray) -> np.ndarray:
    """A block of texels as rows of values: a view (its rows' values are contiguous), never a copy."""
    return np.reshape(block, (block.shape[0], -1), copy=False)


def _take_columns(block: np.ndarray, columns: np.ndarray) -> np.ndarray:
    # A chroma texel's (Cb, Cr) moves as one uint16: one gather instead of two.
    if block.ndim == 3 and block.shape[2] == 2:
        return np.take(block.view(np.uint16)[..., 0], columns, axis=1).view(np.uint8).reshape(block.shape[0], -1, 2)
    return np.take(block, columns, axis=1)


def down(out: np.ndarray, mixed, rows: Taps | None, r0: int, r1: int, work: Scratch) -> None:
    """out ← frame rows [r0, r1) of the window as bytes: the rows of `across` blended down."""
    first, h = mixed
    out = _flat(out)
    shape = out.shape
    if rows is None:  # v = (h·256 + 32768) >> 16 = (h + 128) >> 8
        np.right_shift(_flat(h[r0 - first : r1 - first]), 8, out=out, casting="unsafe")
        return
    h = _flat(h)
    w0, w1 = rows.w0[r0:r1, None], rows.w1[r0:r1, None]
    total, lower = work.wide_block(0, shape), work.wide_block(1, shape)
    # Whole rows per run: a run costs a few calls, a gather two more passes over the
    # block, so runs win until they are a few rows long (a zoom breaks one every ~5-10).
    runs = _runs(rows.i0[r0:r1], rows.i1[r0:r1], most=max(4, (r1 - r0) // 4))
    if runs is None:
        top, bottom = work.int_block(0, shape), work.int_block(1, shape)
        h.take(rows.i0[r0:r1] - first, axis=0, out=top)
        h.take(rows.i1[r0:r1] - first, axis=0, out=bottom)
        np.multiply(top, w0, out=total)
        np.multiply(bottom, w1, out=lower)
    else:
        for i, j, k0, k1 in runs:  # runs of consecutive back rows: read in place
            np.multiply(h[k0 - first : k0 - first + j - i], w0[i:j], out=total[i:j])
            np.multiply(h[k1 - first : k1 - first + j - i], w1[i:j], out=lower[i:j])
    np.add(total, lower, out=total)  # (+ 32768: the bias of `across`)
    np.right_shift(total, 16, out=total)
    np.copyto(out, total, casting="unsafe")


def _runs(i0: np.ndarray, i1: np.ndarray, most: int = 4):
    """[(start, end, i0[start], i1[start])] for runs where both indices step by one, or None past `most`."""
    steps = (np.diff(i0) != 1) | (np.diff(i1) != 1)
    breaks = np.flatnonzero(steps) + 1
    if breaks.size >= most:
        return None
    edges = [0, *breaks.tolist(), i0.size]
    return [(a, b, int(i0[a]), int(i1[a])) for a, b in itertools.pairwise(edges)]
