"""The twins' working memory, and the texel-level moves every twin is built from.

`Workspace` holds the scratch buffers a CPU compositor makes once and every frame
reuses (a block of rows each, so the passes of a blend stay in cache), and the uv grid
of each plane shape. The functions below it move texels the way a fragment shader on
a UNORM8 target does: whole texels (a chroma texel's Cb and Cr as one uint16), mixes
as ``a + t·(b − a)`` on ``u8 · float32(1/255)``, stores as ``rint(v · 255)``, and copies
as runs of columns or rows rather than per texel. The transitions themselves are in
`twins.py`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from math import prod

import numpy as np

__all__ = [
    "Workspace",
    "blend",
    "gather_columns",
    "gather_rows",
    "mix_rows",
    "per_texel",
    "texel_view",
    "true_runs",
]

_F = np.float32
_F05, _F255 = _F(0.5), _F(255.0)
_F1 = _F(1.0)
_INV255 = _F(1 / 255)  # how a UNORM8 texel becomes a float

# float32 elements per block of rows (256 KiB per buffer): the passes of a blend then
# run in cache (~15 % faster at 1080p than whole-plane passes).
_BLOCK = 1 << 16
# More separate column ranges than this and one fancy-indexed copy is cheaper.
_MAX_RUNS = 8


class Workspace:
    """Scratch for the twins, made once per compositor and reused by every frame.

    Buffers of one block each (float32, index, uint32, bool and texel bytes), and the
    uv of every column and row per plane shape (`grid`). A block is as many rows as fit
    `size` elements; both planes have rows of `width` bytes, so `size` bytes hold a
    block of texels of either plane.
    """

    def __init__(self, width: int, height: int) -> None:
        self.ratio = width / height  # as the GL compositor hands it to `ratio`
        self.size = max(_BLOCK, width)
        self.scratch = np.empty((2, self.size), dtype=np.float32)  # the blend's operands
        self.floats = np.empty((6, self.size), dtype=np.float32)  # geometry, texels as floats
        self.indices = np.empty((3, self.size), dtype=np.intp)  # two texel indices, one scratch
        self.bits = np.empty((2, self.size), dtype=np.uint32)
        self.flags = np.empty((2, self.size), dtype=bool)
        self.texels = np.empty((4, self.size), dtype=np.uint8)
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def grid(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, down) of a plane's texel centres as the shader sees them.

        x = gl_FragCoord.x / width per column; down = gl_FragCoord.y / height per memory
        row (row 0 is the top of the picture); y = 1 − down is uv.y, pointing up.
        Computed once per plane shape (a render has two, luma and chroma), read-only.
        """
        key = (height, width)
        if key not in self._grids:
            x = (np.arange(width, dtype=np.float32) + _F05) / _F(width)
            down = (np.arange(height, dtype=np.float32) + _F05) / _F(height)
            y = _F1 - down
            for array in (x, y, down):
                array.flags.writeable = False
            self._grids[key] = (x, y, down)
        return self._grids[key]

    def rows_per_block(self, plane: np.ndarray) -> int:
        return max(1, self.size // plane[0].size)

    def blocks(self, plane: np.ndarray) -> Iterator[tuple[int, int]]:
        """[r0, r1) of each block of rows of `plane`."""
        rows, step = plane.shape[0], self.rows_per_block(plane)
        for r0 in range(0, rows, step):
            yield r0, min(rows, r0 + step)

    # Buffer k of a kind viewed as `shape` (at most one block): float32, texel index,
    # uint32 and bool.
    def float_block(self, k: int, shape) -> np.ndarray:
        return self.floats[k, : prod(shape)].reshape(shape)

    def index_block(self, k: int, shape) -> np.ndarray:
        return self.indices[k, : prod(shape)].reshape(shape)

    def bits_block(self, k: int, shape) -> np.ndarray:
        return self.bits[k, : prod(shape)].reshape(shape)

    def flag_block(self, k: int, shape) -> np.ndarray:
        return self.flags[k, : prod(shape)].reshape(shape)

    def texel_block(self, k: int, like: np.ndarray) -> np.ndarray:
        """Texel buffer k viewed with the shape and dtype of `like` (a block of texels)."""
        count = like.size * like.itemsize
        return self.texels[k, :count].view(like.dtype).reshape(like.shape)


def texel_view(plane: np.ndarray) -> np.ndarray:
    """The plane as a 2-D array of whole texels: uint8 luma, or (Cb, Cr) as one uint16."""
    if plane.ndim == 2:
        return plane
    return plane.view(np.uint16).reshape(plane.shape[:2])


def per_texel(weights: np.ndarray, ndim: int) -> np.ndarray:
    """Weights shaped like a plane's texels, broadcast over (Cb, Cr) on the chroma plane."""
    return weights if ndim == 2 else weights[..., None]


def _as_unit(x, r0: int, r1: int, into: np.ndarray):
    """Rows r0:r1 of a uint8 plane as 0..1 floats (in `into`), or a constant as it is."""
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8:
        return x
    return np.multiply(x[r0:r1], _INV255, out=into)


def _store(out: np.ndarray, value: np.ndarray) -> None:
    """A UNORM8 store: rint(v · 255), in place in `value`."""
    np.multiply(value, _F255, out=value)
    np.rint(value, out=value)
    np.copyto(out, value, casting="unsafe")


def mix_rows(out: np.ndarray, a, b, weight, fa: np.ndarray, fb: np.ndarray) -> None:
    """out = mix(a, b, weight) for one block: ``a + t·(b − a)`` as llvmpipe computes it.

    a and b are uint8 blocks shaped like `out` or float32 constants (a flat colour, per
    channel, already 0..1); fa and fb are float scratch shaped like `out`.
    """
    a_unit = _as_unit(a, 0, out.shape[0], fa)
    b_unit = _as_unit(b, 0, out.shape[0], fb)
    np.subtract(b_unit, a_unit, out=fb)
    np.multiply(fb, weight, out=fb)
    np.add(fb, a_unit, out=fb)
    _store(out, fb)


def blend(out: np.ndarray, a, b, weight, scratch: np.ndarray, row_weights: np.ndarray | None = None) -> None:
    """out = mix(a, b, weight) exactly as a fragment shader on a UNORM8 target does it.

    a and b are uint8 planes shaped like `out`, or float32 per-channel constants already
    in 0..1 (a flat colour uniform); weight is a scalar or per-column weights shaped to
    broadcast (`per_texel`), or None with `row_weights` one weight per row. Texels become
    floats as ``u8 · float32(1/255)``, mix is ``a + t·(b − a)``, and the result is stored
    as ``rint(v · 255)``: on llvmpipe that reproduces the shader bit for bit. Work goes a
    block of rows at a time.
    """
    rows, row_size = out.shape[0], out[0].size
    step = max(1, scratch.shape[1] // row_size)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        shape = (r1 - r0,) + out.shape[1:]
        fa = scratch[1, : (r1 - r0) * row_size].reshape(shape)
        fb = scratch[0, : (r1 - r0) * row_size].reshape(shape)
        a_rows = a[r0:r1] if isinstance(a, np.ndarray) and a.dtype == np.uint8 else a
        b_rows = b[r0:r1] if isinstance(b, np.ndarray) and b.dtype == np.uint8 else b
        w = weight if row_weights is None else row_weights[r0:r1].reshape((-1,) + (1,) * (out.ndim - 1))
        mix_rows(out[r0:r1], a_rows, b_rows, w, fa, fb)


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def gather_columns(out: np.ndarray, src: np.ndarray, columns: np.ndarray, source_columns: np.ndarray) -> None:
    """out[:, c] = src[:, source_columns[c]] for every c where `columns` is True.

    Moves keep neighbouring columns neighbours, so this is a few slice copies; float
    rounding can repeat or skip one source column, which splits a run but stays exact.
    """
    pieces = []
    for start, stop in true_runs(columns):
        index = source_columns[start:stop]
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        bounds = [start, *(start + breaks).tolist(), stop]
        pieces += [(lo, hi, int(source_columns[lo])) for lo, hi in itertools.pairwise(bounds)]
    if len(pieces) > _MAX_RUNS:
        out[:, columns] = src[:, source_columns[columns]]
        return
    for lo, hi, first in pieces:
        np.copyto(out[:, lo:hi], src[:, first : first + hi - lo])


def gather_rows(out: np.ndarray, src: np.ndarray, rows: np.ndarray, source_rows: np.ndarray) -> None:
    """out[r] = src[source_rows[r]] for every r where `rows` is True, as slice copies."""
    for start, stop in true_runs(rows):
        index = source_rows[start:stop]
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        bounds = [start, *(start + breaks).tolist(), stop]
        for lo, hi in itertools.pairwise(bounds):
            first = int(source_rows[lo])
            np.copyto(out[lo:hi], src[first : first + hi - lo])
