"""Slides in motion, prepared once on upload: their layers as YUV planes, or in RGB.

A layered slide (`engine.raster.layers.SlideLayers`) is converted once, on upload,
into `LayerPlanes`: the back layer as NV12 planes at its own size, and each front
layer as Y and CbCr planes of its *straight* colour plus its alpha at both plane
sizes. Chroma of a front layer is averaged weighted by alpha (the same left-sited
filter as `engine.colour.rgb_to_nv12`, applied to premultiplied colour), so an
antialiased edge keeps its colour. Opaque layers convert exactly as slides do. Only
the box around a front layer's ink is converted, and a layer whose ink is black (a
silhouette's, `engine.backdrop`) needs only its alpha sited: its colour planes are
the ones every empty texel has. `SharedPlanes` holds planes of one value, or equal to
one held already, once.

User transition files run in RGB, so a compositor that runs them keeps a layered
slide's layers in RGB instead (`prepare_rgb_layers`: straight colour and alpha, full
size). `engine.composite.layers` draws either, frame by frame.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

import numpy as np

from .._host import lazy_zeros
from ..colour import BT709_RGB_TO_YCBCR, nv12_planes, quantise, rgb_to_nv12
from ..raster.layers import SlideLayers

__all__ = [
    "MAX_ITEMS",
    "FrontPlanes",
    "FrontRGB",
    "LayerPlanes",
    "LayerRGB",
    "RevealPlanes",
    "SharedPlanes",
    "front_planes",
    "front_rgb",
    "prepare_layers",
    "prepare_rgb_layers",
]

#: Build items a layered slide may have (the shader's uniform array has one more: item 0).
MAX_ITEMS = 31

_F = np.float32
_INV255 = _F(1 / 255)
_F05 = _F(0.5)
_BAND = 64  # rows converted at once, as engine.colour does
_SAMPLE = 1021  # SharedPlanes looks a plane up by every this-many-th value (~2,000 at 1080p)


@dataclass(frozen=True)
class FrontPlanes:
    """One front layer: straight colour and alpha per plane."""

    y: np.ndarray  # H×W uint8
    uv: np.ndarray  # H/2×W/2×2 uint8
    alpha: np.ndarray  # H×W uint8
    alpha_uv: np.ndarray  # H/2×W/2 uint8
    # Per plane, the (top, bottom, left, right) box of texels whose alpha is not 255:
    # outside it the layer covers everything under it. None: it is opaque everywhere.
    open_box: tuple[tuple[int, int, int, int] | None, tuple[int, int, int, int] | None]
    # Per plane, which rows have any texel with alpha above 0 (the others change nothing).
    ink_rows: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class LayerPlanes:
    width: int
    height: int
    back_y: np.ndarray  # Hb×Wb uint8
    back_uv: np.ndarray  # Hb/2×Wb/2×2 uint8
    region: tuple[int, int, int, int]  # frame box the back layer fills, luma pixels
    static: FrontPlanes | None
    items: FrontPlanes | None
    rows: np.ndarray  # H uint8
    rows_uv: np.ndarray  # H/2 uint8
    count: int
    reveal: RevealPlanes | None = None

    @property
    def back_size(self) -> tuple[int, int]:
        return self.back_y.shape[1], self.back_y.shape[0]

    @property
    def nbytes(self) -> int:
        arrays = [self.back_y, self.back_uv, self.rows, self.rows_uv]
        fronts = [self.static, self.items]
        if self.reveal is not None:
            fronts += [self.reveal.image, self.reveal.base]
            arrays += [self.reveal.times, self.reveal.times_uv]
        for front in fronts:
            if front is not None:
                arrays += [front.y, front.uv, front.alpha, front.alpha_uv]
        return sum(a.nbytes for a in arrays)


@dataclass(frozen=True)
class RevealPlanes:
    """A chart that appears: its finished image and its base as planes, and the reveal times."""

    image: FrontPlanes
    base: FrontPlanes
    times: np.ndarray  # H×W uint16, 0..REVEAL_STEPS
    times_uv: np.ndarray  # H/2×W/2 uint16: a chroma texel turns when its last pixel does
    rows: tuple[np.ndarray, np.ndarray]  # per plane, the rows the chart touches
    fades: bool


def prepare_layers(layers: SlideLayers | list[SlideLayers], width: int, height: int) -> LayerPlanes:
    """Convert `layers` (at a width×height output) to planes, once per slide.

    Handed over as a one-item list, which it empties, the layers are let go one by one
    as their planes are made, so that a slide's RGBA layers and its planes are never all
    held at once (a chart slide's at 1080p: ~14 MB less at that moment).
    """
    whole = layers.pop() if isinstance(layers, list) else layers
    if whole.count > MAX_ITEMS:
        raise ValueError(f"a slide builds at most {MAX_ITEMS} items, this one has {whole.count}")
    back, static, items, reveal = whole.back, whole.static, whole.items, whole.reveal
    region, count = (*whole.region,), whole.count
    rows = np.ascontiguousarray(whole.rows, dtype=np.uint8)
    del whole  # (the caller's `layers`, if not handed over, still holds them all)
    bw, bh = back.shape[1], back.shape[0]
    # Views of one NV12 buffer: the planes need no copies of their own.
    back_y, back_uv = nv12_planes(rgb_to_nv12(np.ascontiguousarray(back)), bw, bh)
    del back
    static_planes = None if static is None else front_planes(static)
    del static
    items_planes = None if items is None else front_planes(items)
    del items
    pair = rows.reshape(-1, 2)
    rows_uv = np.where(pair[:, 0] != 0, pair[:, 0], pair[:, 1]).astype(np.uint8)
    return LayerPlanes(
        width,
        height,
        back_y,
        back_uv,
        region,
        static_planes,
        items_planes,
        rows,
        rows_uv,
        count,
        None if reveal is None else _reveal_planes(reveal),
    )


def _reveal_planes(reveal) -> RevealPlanes:
    size = reveal.times.shape
    image, base = (front_planes(part, reveal.at, size) for part in (reveal.image, reveal.base))
    times = np.ascontiguousarray(reveal.times, dtype=np.uint16)
    # The latest of each 2×2 block, pairwise (a max over two inner axes took 25 ms at 1080p).
    times_uv = np.maximum(
        np.maximum(times[0::2, 0::2], times[0::2, 1::2]), np.maximum(times[1::2, 0::2], times[1::2, 1::2])
    )
    touched = [image.ink_rows[plane] | base.ink_rows[plane] for plane in (0, 1)]
    return RevealPlanes(image, base, times, np.ascontiguousarray(times_uv), (touched[0], touched[1]), reveal.fades)


def front_planes(rgba: np.ndarray, at: tuple[int, int] = (0, 0), size: tuple[int, int] | None = None) -> FrontPlanes:
    """A straight-alpha RGBA layer → Y, CbCr, alpha and chroma alpha planes.

    Only the box around the layer's nonzero texels is converted, with two columns to
    spare on each side for the chroma filter: outside it every texel is (0, 0, 0, 0),
    alpha 0 (a text layer is mostly that), and Y and CbCr are left 0, not black's 16 and
    128: where alpha is 0 nothing reads a texel's colour (each blend weighs it by 0).
    A layer whose ink is black throughout (a silhouette's), or that has none, has one Y
    (16) and one CbCr (128): read-only broadcasts, no bytes.
    `rgba` may be a part of a frame of `size` (height, width), at `at` (top, left), the
    rest transparent: the planes are the frame's, the bytes those of the whole layer.
    """
    h, w = rgba.shape[:2] if size is None else size
    top0, left0 = at
    # Only the box is written: the rest stays zero and takes no memory (`lazy_zeros`).
    alpha, alpha_uv = lazy_zeros((h, w)), lazy_zeros((h // 2, w // 2))
    # Each texel as one number, R + G·2⁸ + B·2¹⁶ + A·2²⁴: one comparison a texel finds
    # the box (numpy's any over a frame's columns and channels took 13 ms at 1080p).
    if rgba.strides[-1] != 1:  # (a texel's four bytes must be adjacent to view them as one)
        rgba = np.ascontiguousarray(rgba)
    texels = rgba.view("<u4")[..., 0]
    rows = np.flatnonzero(texels.any(axis=1))
    box, colour = None, False
    if rows.size:
        cols = np.flatnonzero(texels[rows[0] : rows[-1] + 1].any(axis=0))
        first_row, last_row, first_col, last_col = rows[0] + top0, rows[-1] + top0, cols[0] + left0, cols[-1] + left0
        top, bottom = first_row // 2 * 2, min(h, (last_row + 2) // 2 * 2)
        # The chroma filter reads the pixel left of each pair: two spare columns on each
        # side keep the box's edge texels as they are in the whole frame.
        left, right = max(0, first_col // 2 * 2 - 2), min(w, (last_col + 2) // 2 * 2 + 2)
        box = _frame_part(rgba, at, (top, bottom, left, right))
        colour = bool((box.view("<u4")[..., 0] & np.uint32(0x00FFFFFF)).any())
    if colour:
        y, uv = lazy_zeros((h, w)), lazy_zeros((h // 2, w // 2, 2))
    else:
        y = np.broadcast_to(np.uint8(16), (h, w))
        uv = np.broadcast_to(np.array([128, 128], np.uint8), (h // 2, w // 2, 2))
    if box is not None:
        alpha[top:bottom, left:right] = box[..., 3]
        _convert_front(
            box,
            y[top:bottom, left:right],
            uv[top // 2 : bottom // 2, left // 2 : right // 2],
            alpha_uv[top // 2 : bottom // 2, left // 2 : right // 2],
            colour=colour,
        )
    return FrontPlanes(
        y, uv, alpha, alpha_uv, (_open_box(alpha), _open_box(alpha_uv)), (_ink_rows(alpha), _ink_rows(alpha_uv))
    )


def _frame_part(rgba: np.ndarray, at: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """Texels [top, bottom) × [left, right) (`box`) of the frame `rgba` lies in at `at`:
    a view of it where the box lies inside it, else a copy, transparent outside it."""
    top0, left0 = at
    top, bottom, left, right = box
    height, width = rgba.shape[:2]
    if top >= top0 and left >= left0 and bottom <= top0 + height and right <= left0 + width:
        return rgba[top - top0 : bottom - top0, left - left0 : right - left0]
    out = np.zeros((bottom - top, right - left, 4), dtype=np.uint8)
    rows = slice(max(top, top0), min(bottom, top0 + height))
    cols = slice(max(left, left0), min(right, left0 + width))
    out[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left] = rgba[
        rows.start - top0 : rows.stop - top0, cols.start - left0 : cols.stop - left0
    ]
    return out


def _convert_front(
    rgba: np.ndarray, y: np.ndarray, uv: np.ndarray, alpha_uv: np.ndarray, *, colour: bool = True
) -> None:
    """`front_planes`' arithmetic on a box of even size, into views of its planes.

    With `colour` False the box's colour is black throughout (a silhouette's ink): black
    converts to Y 16 and CbCr 128, which the planes hold already (`front_planes`), so
    only the alpha is sited, by the very operations the colour would have gone through.
    """
    m = BT709_RGB_TO_YCBCR.astype(np.float32)
    for top in range(0, rgba.shape[0], _BAND):
        band = (rgba[top : top + _BAND] if colour else rgba[top : top + _BAND, :, 3:]).astype(np.float32) * _INV255
        rgb, a = band[..., :-1], band[..., -1:]
        if colour:
            y[top : top + _BAND] = quantise(16 + 219 * (rgb @ m[0]))
        # Premultiplied colour and alpha through the same left-sited filter, then divided
        # back: the chroma texel's colour is its covered pixels' colour.
        pre = np.concatenate([rgb * a, a], axis=-1) if colour else a
        pairs = (pre[0::2] + pre[1::2]) * _F05
        left = np.concatenate([pairs[:, :1], pairs[:, 1:-1:2]], axis=1)
        sited = (left + 2 * pairs[:, 0::2] + pairs[:, 1::2]) * _F(0.25)
        weight = sited[..., -1:]
        if colour:
            straight = np.divide(sited[..., :3], weight, out=np.zeros_like(sited[..., :3]), where=weight > 0)
            chroma = uv[top // 2 : (top + _BAND) // 2]
            chroma[..., 0] = quantise(128 + 224 * (straight @ m[1]))
            chroma[..., 1] = quantise(128 + 224 * (straight @ m[2]))
        alpha_uv[top // 2 : (top + _BAND) // 2] = quantise(weight[..., 0] * 255)


def _open_box(alpha: np.ndarray):
    rows = np.flatnonzero((alpha != 255).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((alpha != 255).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


class SharedPlanes:
    """Layer planes held once: a plane of one value as a read-only broadcast of it (no
    bytes), and a plane equal to one still held elsewhere as that array.

    A backdrop's two silhouettes of a slide (engine.backdrop) have the slide's own
    coverage and black ink (one Y and one CbCr value); white text has one CbCr value.
    `compose_plane` only reads its planes, so they may be shared. A plane is looked up
    by a sample of its values (every `_SAMPLE`-th), and shared only if it then compares
    equal in full: a digest of every byte took a third of the uploads' time. Planes
    are kept while some slide holds them.
    """

    def __init__(self) -> None:
        self._held: weakref.WeakValueDictionary[tuple, np.ndarray] = weakref.WeakValueDictionary()

    def share(self, planes: LayerPlanes) -> LayerPlanes:
        fronts = {name: self._front(getattr(planes, name)) for name in ("static", "items")}
        reveal = planes.reveal
        if reveal is not None:
            reveal = dataclasses.replace(
                reveal,
                image=self._front(reveal.image),
                base=self._front(reveal.base),
                times=self.plane(reveal.times),
                times_uv=self.plane(reveal.times_uv),
            )
        return dataclasses.replace(
            planes, rows=self.plane(planes.rows), rows_uv=self.plane(planes.rows_uv), reveal=reveal, **fronts
        )

    def _front(self, front):
        if front is None:
            return None
        return dataclasses.replace(
            front,
            y=self.plane(front.y),
            uv=self.plane(front.uv),
            alpha=self.plane(front.alpha),
            alpha_uv=self.plane(front.alpha_uv),
        )

    def plane(self, array: np.ndarray) -> np.ndarray:
        """`array`, or an array with the same bytes that takes none or is held already."""
        if array.size == 0 or array.strides[:2] == (0, 0):  # (a broadcast already: `front_planes`' black)
            return array
        first = array.reshape(-1)[: array.shape[-1] if array.ndim == 3 else 1]
        if not (array.reshape(-1, first.size) != first).any():  # one value (per channel) throughout
            return np.broadcast_to(first.copy(), array.shape)
        data = np.ascontiguousarray(array)
        key = (array.shape, array.dtype.str, data.reshape(-1)[::_SAMPLE].tobytes())
        held = self._held.get(key)
        if held is not None and np.array_equal(held, data):
            return held
        self._held[key] = data  # (a plane with the same sample but other values takes its place)
        return data


@dataclass(frozen=True)
class FrontRGB:
    """One front layer in RGB: straight colour and alpha at the frame's size."""

    colour: np.ndarray  # H×W×3 uint8
    alpha: np.ndarray  # H×W uint8
    open_box: tuple[int, int, int, int] | None  # as FrontPlanes.open_box, for the one plane
    ink_rows: np.ndarray  # H bool


@dataclass(frozen=True)
class LayerRGB:
    """A layered slide kept in RGB for user transition files (see the module's docstring)."""

    width: int
    height: int
    back: np.ndarray  # Hb×Wb×3 uint8
    region: tuple[int, int, int, int]
    static: FrontRGB | None
    items: FrontRGB | None
    rows: np.ndarray  # H uint8
    count: int
    # A chart that appears: (image, base, times H×W uint16, rows the chart touches), or None.
    reveal: tuple[FrontRGB, FrontRGB, np.ndarray, np.ndarray] | None = None

    @property
    def back_size(self) -> tuple[int, int]:
        return self.back.shape[1], self.back.shape[0]


def prepare_rgb_layers(layers: SlideLayers, width: int, height: int) -> LayerRGB:
    """`layers` (at a width×height output) as RGB arrays `compose_rgb` and motion.frag draw."""
    if layers.count > MAX_ITEMS:
        raise ValueError(f"a slide builds at most {MAX_ITEMS} items, this one has {layers.count}")
    reveal = None
    if layers.reveal is not None:
        image, base = (front_rgb(layers.reveal.frame_rgba(which)) for which in ("image", "base"))
        times = np.ascontiguousarray(layers.reveal.times, dtype=np.uint16)
        reveal = (image, base, times, image.ink_rows | base.ink_rows)
    return LayerRGB(
        width,
        height,
        np.ascontiguousarray(layers.back),
        (*layers.region,),
        None if layers.static is None else front_rgb(layers.static),
        None if layers.items is None else front_rgb(layers.items),
        np.ascontiguousarray(layers.rows, dtype=np.uint8),
        layers.count,
        reveal,
    )


def front_rgb(rgba: np.ndarray) -> FrontRGB:
    """A straight-alpha RGBA layer → its colour and alpha, as motion.frag reads them."""
    alpha = np.ascontiguousarray(rgba[..., 3])
    return FrontRGB(np.ascontiguousarray(rgba[..., :3]), alpha, _open_box(alpha), _ink_rows(alpha))


def _ink_rows(alpha: np.ndarray) -> np.ndarray:
    """Per row: does any pixel of it show (alpha above 0)?"""
    return np.asarray(alpha.any(axis=1))
