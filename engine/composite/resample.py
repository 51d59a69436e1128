"""The back layer through a moving window: motion.frag's fixed-point bilinear, in numpy.

Along each axis a frame texel's centre X maps to the back position
``p = (X + ½)·s + o − ½`` (float32, clamped to [0, n − 1]), which is then quantised to
1/256 of a texel: ``q = floor(p·256 + ½)``, ``i0 = q >> 8``, ``f = q & 255``,
``i1 = min(i0 + 1, n − 1)``. The texels are then mixed in integers, in two passes that
each round to a byte, as separable resamplers of 8-bit pictures do:

    b = (t(i0)·(256 − fx) + t(i1)·fx + 128) >> 8          per back row, across
    v = (b(y0)·(256 − fy) + b(y1)·fy + 128) >> 8          per frame row, down

``shaders/motion.frag`` does the same in uint arithmetic, which GLSL computes exactly,
so the compositors agree bit for bit wherever they compute the same float positions
(llvmpipe does: tested). Here `across` makes b once for each back row the window
reads, the columns' taps being the same for every row, and `down` blends two of those
rows into each frame row. No sum reaches 2¹⁶, so all of it is uint16 arithmetic: half
the bytes a pass of float32 moves, and no casts.
Against float bilinear the byte differs by at most two codes, and by two only where
both roundings and the position's (at most 1/512 texel) add up: on noise, one texel
in ~40 000. (One rounding, 16-bit rows blended down in float32, kept within one code
and cost a 1080p Ken Burns frame ~25 % more.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import prod

import numpy as np

__all__ = ["Scratch", "Taps", "across", "down", "pairs", "scattered", "taps"]

_F = np.float32
_ONE = 256  # the weights' unit: positions in 1/256 texel
_BIAS = 128  # ½ code in a sum weighted by 256: each pass rounds to nearest


class Scratch:
    """One thread's buffers: five float, two uint16 and one byte block, and the rows `across` makes (uint16)."""

    def __init__(self, rows: int, size: int) -> None:
        self.rows = rows
        self.floats = np.empty((5, size), dtype=np.float32)
        self.ints = np.empty((2, size), dtype=np.uint16)
        self.bytes = np.empty(size, dtype=np.uint8)
        self._across = np.empty(0, dtype=np.uint16)

    def float_block(self, k: int, shape) -> np.ndarray:
        return self.floats[k, : prod(shape)].reshape(shape)

    def int_block(self, k: int, shape) -> np.ndarray:
        return self.ints[k, : prod(shape)].reshape(shape)

    def byte_block(self, shape) -> np.ndarray:
        return self.bytes[: prod(shape)].reshape(shape)

    def let_go(self) -> None:
        """Free the room `across` grew to (a camera over a frame-sized picture: ~5 MB at 1080p)."""
        self._across = np.empty(0, dtype=np.uint16)

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
    breaks: np.ndarray  # where a run of consecutive texels (both indices stepping by one) breaks, ascending
    whole: bool = False  # every texel on a back texel (all weights w1 are 0): a drift across the other axis


def taps(size: int, scale, offset, back_size: int) -> Taps | None:
    """The `Taps` of `size` frame texels along an axis of the back layer; None at rest."""
    if scale == _F(1) and offset == _F(0) and size == back_size:
        return None
    position = (np.arange(size, dtype=np.float32) + _F(0.5)) * _F(scale) + _F(offset) - _F(0.5)
    position = np.clip(position, _F(0), _F(back_size - 1))
    q = np.floor(position * _F(_ONE) + _F(0.5)).astype(np.intp)
    i0, f = q >> 8, q & (_ONE - 1)
    i1 = np.minimum(i0 + 1, back_size - 1)
    breaks = np.flatnonzero((np.diff(i0) != 1) | (np.diff(i1) != 1)) + 1
    return Taps(i0, i1, (_ONE - f).astype(np.uint16), f.astype(np.uint16), breaks, whole=not f.any())


def scattered(columns: Taps) -> bool:
    """Do the columns read more than a few runs of consecutive back columns (a zoom), so `across` gathers?"""
    return _runs(columns, 0, columns.i0.size) is None


def pairs(back: np.ndarray) -> np.ndarray | None:
    """A plane's texels each with its right neighbour's (the last with itself), as uint16.

    ``t(x) | t(min(x + 1, w − 1)) << 8`` per channel: one gather fetches both texels a
    column mixes (a chroma texel's two as one uint32), which halves the work of a zoom's
    gathers (scattered single bytes cost per byte). None for three channels (RGB).

    In luma, rows 2k and 2k + 1 share an element too, ``p(2k) | p(2k + 1) << 16``
    (uint32, ⌈h/2⌉ × w, the last row repeated where h is odd): one gather fetches a
    column's texels on two rows. numpy's gather costs per element, not per byte (180
    against 88 µs for 136 rows of 1920 columns), and splitting the rows costs ~45. The
    same bytes as pairs on one row. (Chroma's uint32 pairs two to a uint64 gained
    nothing: splitting the 64-bit lanes cost what the gather saved.)
    """
    if prod(back.shape[2:]) > 2:
        return None
    joined = back.astype(np.uint16)
    joined[:, :-1] |= joined[:, 1:] << 8
    joined[:, -1] |= joined[:, -1] << 8
    if back.ndim > 2:
        return joined
    height, width = back.shape
    rows = np.empty((2 * ((height + 1) // 2), width), dtype=np.uint32)
    rows[:height] = joined
    rows[height:] = joined[-1:]
    return rows[0::2] | (rows[1::2] << 16)


def across(back: np.ndarray, columns: Taps | None, rows: Taps | None, window, work: Scratch, joined=None):
    """(first row, rows): each back row the window reads, mixed across to its columns (uint16).

    Where `rows` blend two of these into a frame row, they are the bytes b; where each
    frame row is one of them (`rows` None or whole: a drift), they are h + 128, whose top
    byte is b, and `down` takes it in the pass that stores it.

    Where the window's columns read runs of consecutive back columns (a drift: the scale
    is about 1), slices replace gathers; elsewhere `joined` (the plane's `pairs`, or None)
    gathers both texels of a column at once, in luma on two rows at once (`first` is then
    even, and the rows may end one past the plane's last: never read).
    """
    a, b, c0, c1 = window
    if rows is None:  # the frame's rows are the back layer's
        first, last = a, b
    else:
        first, last = int(rows.i0[a:b].min()), int(rows.i1[a:b].max()) + 1
    runs = None if columns is None else _runs(columns, c0, c1)
    two_rows = columns is not None and runs is None and joined is not None and joined.dtype == np.uint32
    if two_rows:  # (whole pairs of rows: from an even row, maybe one row past the plane's last)
        first -= first % 2
        last += (last - first) % 2
    h = work.across((last - first, c1 - c0) + back.shape[2:])
    rounded = rows is not None and not rows.whole  # (see above)
    if columns is None:  # each frame column is its back column: the bytes as they are
        if rounded:
            np.copyto(h, back[first:last, c0:c1])
        else:  # t·256 + 128
            np.multiply(back[first:last, c0:c1], np.uint16(_ONE), out=h)
            np.add(h, np.uint16(_BIAS), out=h)
        return first, h
    x0 = columns.i0[c0:c1]
    # Chroma's (Cb, Cr) as one row of 2·n values, each weight repeated: a trailing axis
    # of 2 against a broadcast weight costs numpy ten times the work.
    channels = prod(back.shape[2:])
    w0, w1 = (np.repeat(w[c0:c1], channels)[None, :] for w in (columns.w0, columns.w1))
    w1_joined = w1 - (w0 << 8)  # (mod 2¹⁶)
    step = max(2, work.rows - work.rows % 2) if two_rows else work.rows
    for r0 in range(first, last, step):
        r1 = min(last, r0 + step)
        block = _flat(h[r0 - first : r1 - first])
        right = work.int_block(1, block.shape)
        if two_rows and joined is not None:  # luma: one gather for rows r0 + 2k and r0 + 2k + 1
            both = work.float_block(0, ((r1 - r0) // 2, c1 - c0)).view(np.uint32)
            # (mode="clip": the taps are in range; numpy's default "raise" gathers into a
            # copy of `out` first and checks every index, ~20 % of the gather.)
            np.take(joined[r0 // 2 : r1 // 2], x0, axis=1, out=both, mode="clip")
            lanes = right.reshape(-1, 2, c1 - c0)  # then each row its own
            np.copyto(lanes[:, 0], both, casting="unsafe")  # (the low 16 bits)
            np.right_shift(both, 16, out=both)
            np.copyto(lanes[:, 1], both, casting="unsafe")
        elif runs is None and joined is not None:  # chroma: a texel's (Cb, Cr) pairs as one uint32
            np.take(joined[r0:r1].view(np.uint32)[..., 0], x0, axis=1, out=right.view(np.uint32), mode="clip")
        if runs is None and joined is not None:
            np.multiply(right, w0, out=block)  # t0·w0 + 256·t1·w0
            np.right_shift(right, 8, out=right)
            np.multiply(right, w1_joined, out=right)  # t1·w1 − 256·t1·w0 (uint16 wraps: the sum is exact)
        elif runs is None:
            np.multiply(_flat(_take_columns(back[r0:r1], x0)), w0, out=block)
            np.multiply(_flat(_take_columns(back[r0:r1], columns.i1[c0:c1])), w1, out=right)
        else:
            for i, j, k0, k1 in runs:
                n0, n1, m = i * channels, j * channels, (j - i)
                np.multiply(_flat(back[r0:r1, k0 : k0 + m]), w0[:, n0:n1], out=block[:, n0:n1])
                np.multiply(_flat(back[r0:r1, k1 : k1 + m]), w1[:, n0:n1], out=right[:, n0:n1])
        np.add(block, right, out=block)
        np.add(block, np.uint16(_BIAS), out=block)
        if rounded:
            np.right_shift(block, 8, out=block)
    return first, h


def _flat(block: np.ndarray) -> np.ndarray:
    """A block of texels as rows of values: a view (its rows' values are contiguous), never a copy."""
    return np.reshape(block, (block.shape[0], -1), copy=False)


def _take_columns(block: np.ndarray, columns: np.ndarray) -> np.ndarray:
    # A chroma texel's (Cb, Cr) moves as one uint16: one gather instead of two.
    if block.ndim == 3 and block.shape[2] == 2:
        return (
            np.take(block.view(np.uint16)[..., 0], columns, axis=1, mode="clip")
            .view(np.uint8)
            .reshape(block.shape[0], -1, 2)
        )
    return np.take(block, columns, axis=1, mode="clip")


def down(out: np.ndarray, mixed, rows: Taps | None, r0: int, r1: int, work: Scratch) -> None:
    """out ← frame rows [r0, r1) of the window as bytes: the rows of `across` blended down.

    ``(b0·(256 − fy) + b1·fy + 128) >> 8`` in uint16: each product is at most 255·256,
    and so is their sum, the weights summing to 256.
    """
    first, h = mixed
    out = _flat(out)
    h = _flat(h)
    if rows is None:  # the frame's rows are the back layer's: b is the top byte of h + 128
        np.right_shift(h[r0 - first : r1 - first], 8, out=out, casting="unsafe")
        return
    if rows.whole:  # each frame row is one row of `across` (fy = 0): likewise
        whole_runs = _runs(rows, r0, r1)
        if whole_runs is None:  # (rows clamped at the back's edge)
            np.right_shift(h.take(rows.i0[r0:r1] - first, axis=0, mode="clip"), 8, out=out, casting="unsafe")
        for i, j, k0, _ in whole_runs or ():
            np.right_shift(h[k0 - first : k0 - first + j - i], 8, out=out[i:j], casting="unsafe")
        return
    shape = out.shape
    w0, w1 = rows.w0[r0:r1, None], rows.w1[r0:r1, None]
    upper, lower = work.int_block(0, shape), work.int_block(1, shape)
    # Whole rows per run: a run costs two calls, a gather two more passes over the block,
    # so runs win until they are a few rows long (a zoom breaks one every ~5-10).
    # (Measured at 1080p in 136-row blocks: the two cost the same at ~11 runs.)
    runs = _runs(rows, r0, r1, most=max(4, (r1 - r0) // 12))
    if runs is None:
        h.take(rows.i0[r0:r1] - first, axis=0, out=upper, mode="clip")
        h.take(rows.i1[r0:r1] - first, axis=0, out=lower, mode="clip")
        np.multiply(upper, w0, out=upper)
        np.multiply(lower, w1, out=lower)
    else:
        for i, j, k0, k1 in runs:  # runs of consecutive back rows: read in place
            np.multiply(h[k0 - first : k0 - first + j - i], w0[i:j], out=upper[i:j])
            np.multiply(h[k1 - first : k1 - first + j - i], w1[i:j], out=lower[i:j])
    np.add(upper, lower, out=upper)
    np.add(upper, np.uint16(_BIAS), out=upper)
    np.right_shift(upper, 8, out=out, casting="unsafe")


def _runs(taps: Taps, a: int, b: int, most: int = 4):
    """[(start, end, i0, i1)] of texels [a, b) (starts from a) in runs where both indices step by one, or None past `most`."""
    inside = taps.breaks[np.searchsorted(taps.breaks, a, side="right") : np.searchsorted(taps.breaks, b)]
    if inside.size >= most:
        return None
    edges = [a, *inside.tolist(), b]
    i0, i1 = taps.i0, taps.i1
    return [(s - a, e - a, int(i0[s]), int(i1[s])) for s, e in itertools.pairwise(edges)]
