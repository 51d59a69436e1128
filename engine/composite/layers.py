"""Slides in motion, frame by frame: the numpy twin of ``shaders/motion.frag``.

A layered slide is prepared once, on upload (`engine.composite.planes`: NV12 planes, or
RGB for user transition files). Each frame, `plan_layers` turns a `MotionState` into
per-plane numbers, and both compositors draw, per texel of each plane:

    b = bilinear(back, X·sx + ox − ½, Y·sy + oy − ½)     (X, Y: texel centre; fixed point,
                                                          a byte: `engine.composite.resample`)
    b = static alpha is 1 ? static : b + a_s·(static − b)
    (f, a) = times ≤ clock ? (chart, its alpha · opacity) : (chart base, its alpha);  b = b + a·(f − b)
    i = rows[y];  (o, dx, dy) = items[i];  s = (x − dx, y − dy)
    if i > 0 and s is in the frame and rows[s.y] == i:  b = b + a_i(s)·o·(item(s) − b)
    out = rint(b · 255)

in float32, in that order, with texels read as ``u8 · float32(1/255)`` (see
`engine.composite.twins`). The GL compositor runs ``shaders/motion.frag``; on
llvmpipe the two agree bit for bit, elsewhere within a code value (the bilinear's texel
arithmetic is integer, exact on any GPU; a driver may still round a position differently).

`compose_rgb` draws the same formulas once on a slide's RGB layers, with the luma
plane's numbers: the frame a user transition file's getFromColor / getToColor see.
Converted to YUV it is the slide's motion frame with luma within a code value; chroma,
filtered after the window resamples the picture rather than before, and per pixel at a
chart's reveal front rather than per chroma texel, differs by a few codes at sharp
colour edges.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol, cast

import numpy as np

from .._host import usable_cores
from ..motion import MotionState
from ..raster.layers import REVEAL_STEPS
from .planes import LayerRGB
from .resample import Scratch, Taps, across, down, pairs, scattered, taps

__all__ = [
    "LayerGeometry",
    "LayerWork",
    "PlaneStep",
    "compose_plane",
    "compose_rgb",
    "plan_layers",
]

_F = np.float32
_INV255 = _F(1 / 255)
_F1, _F255 = _F(1.0), _F(255.0)


@dataclass(frozen=True)
class PlaneStep:
    """One plane's numbers for one frame: the back-layer map and the items' table."""

    back_map: tuple[float, float, float, float]  # sx, ox, sy, oy in this plane's texels
    items: np.ndarray  # (count + 1)×3 float32: opacity, dx, dy in texels; row 0 is "no item"
    reveal_threshold: int = REVEAL_STEPS  # pixels whose time is at most this show the chart
    reveal_opacity: float = 1.0


class LayerGeometry(Protocol):
    """What `plan_layers` reads of a layered slide, however it is held (planes, RGB, textures)."""

    @property
    def count(self) -> int: ...

    @property
    def region(self) -> tuple[int, int, int, int]: ...

    @property
    def back_size(self) -> tuple[int, int]: ...


def plan_layers(planes: LayerGeometry, state: MotionState) -> tuple[PlaneStep, PlaneStep]:
    """The luma and chroma numbers of one frame of a layered slide in `state`.

    An RGB frame (`LayerRGB`) is drawn at full size with the luma numbers.
    """
    if len(state.items) != planes.count:
        raise ValueError(f"the state has {len(state.items)} build items, the slide {planes.count}")
    sx, ox, sy, oy = state.window.back_map(planes.region, *planes.back_size)
    table = np.zeros((planes.count + 1, 3), dtype=np.float32)
    for number, item in enumerate(state.items, start=1):
        table[number] = (item.opacity, item.dx, item.dy)
    chroma_table = table.copy()
    chroma_table[:, 1:] = np.round(table[:, 1:] / 2)  # offsets are even in luma
    threshold = round(min(max(state.reveal, 0.0), 1.0) * REVEAL_STEPS)
    opacity = float(state.reveal_opacity)
    # A chroma texel's centre is at twice its coordinates in luma, and the back
    # layer's chroma is half its luma: the scale stays, the offset halves.
    return (
        PlaneStep((sx, ox, sy, oy), table, threshold, opacity),
        PlaneStep((sx, ox / 2, sy, oy / 2), chroma_table, threshold, opacity),
    )


# --- the numpy twin of shaders/motion.frag ------------------------------------------------


class LayerWork:
    """Scratch for `compose_plane`, made once per compositor and reused by every frame.

    With `threads` above 1 a plane's rows are split between that many threads, each with
    its own scratch; numpy releases the GIL inside every pass, and each texel's arithmetic
    is the same whichever thread draws it. The default is half the usable cores, at most
    2: the encoder works beside the compositor, and on 2 cores a second thread made a
    1080p motion frame 13 % sooner for 30 % more CPU (7.1 against 8.2 ms, 10.7 against
    8.2 CPU-ms), which the encoder then lacks.
    """

    def __init__(self, width: int, channels: int = 1, threads: int | None = None) -> None:
        # Rows per block: ~256 K values of either plane (136 rows at 1080p). Fewer, larger
        # passes beat blocks that stay in L2 (each numpy call costs microseconds of Python):
        # ~8 % a motion frame at 1080p against 68 rows, ~20 % against 34.
        self.rows = max(1, (1 << 19) // (2 * width))
        # A plane's row holds at most width × channels values: both NV12 planes hold
        # `width` (luma W × 1, chroma W/2 × 2: channels 1, the default), an RGB frame W × 3.
        size = self.rows * width * channels
        self.threads = max(1, min(2, usable_cores() // 2) if threads is None else threads)
        self.scratch = [Scratch(self.rows, size) for _ in range(self.threads)]
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._made: dict[tuple, tuple[list[weakref.ref], object]] = {}

    def _kept(self, kind: str, arrays: tuple[np.ndarray, ...], make: Callable[[], object]) -> object:
        """make(), computed once per set of `arrays` (a layer's planes) while they live, for the last few.

        Keyed by the arrays themselves, not their contents: planes are never written after
        upload, and `SharedPlanes` may give two slides one alpha plane under different colours.
        """
        key = (kind, *map(id, arrays))
        held = self._made.get(key)
        if held is None or any(ref() is not array for ref, array in zip(held[0], arrays)):
            alive = [(k, v) for k, v in self._made.items() if all(ref() is not None for ref in v[0])]
            self._made = dict(alive[-12:])  # (a frame draws at most two slides, two planes each, three kinds)
            held = ([weakref.ref(array) for array in arrays], make())
            self._made[key] = held
        return held[1]

    def ink(self, static: tuple) -> _Ink | None:
        """The static layer's `_Ink`, made on its first frame."""
        return cast(_Ink | None, self._kept("ink", static[:2], partial(_ink, static)))

    def pairs(self, back: np.ndarray) -> np.ndarray | None:
        """The back layer's `resample.pairs`, made on its first moving frame."""
        return cast(np.ndarray | None, self._kept("pairs", (back,), partial(pairs, back)))

    def revealed(self, plane: _Plane) -> _Revealed:
        """The `_Revealed` bytes of a plane whose chart appears over a still picture, made on its first frame."""
        assert plane.reveal is not None
        arrays = (plane.back, *(plane.static[:2] if plane.static is not None else ()), *plane.reveal[:4])
        return cast(_Revealed, self._kept("revealed", arrays, partial(_revealed, plane, self.scratch[0])))

    def run(self, task: Callable[[int, int, Scratch], None], height: int) -> None:
        """task(first row, end row, scratch) over rows [0, height), one share per thread."""
        shares = min(self.threads, max(1, height // 16))  # (a share of a few rows is not worth a thread)
        if shares == 1:
            task(0, height, self.scratch[0])
            return
        if self._pool is None or self._pool_pid != os.getpid():  # (a forked child has no threads)
            self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="reel-layers")
            self._pool_pid = os.getpid()
        cuts = [height * k // shares for k in range(shares + 1)]
        others = [self._pool.submit(task, cuts[k], cuts[k + 1], self.scratch[k]) for k in range(1, shares)]
        try:
            task(cuts[0], cuts[1], self.scratch[0])
        finally:
            for other in others:
                other.result()

    def let_go(self) -> None:
        """Free what only a moving back layer needs, until the next one comes."""
        for scratch in self.scratch:
            scratch.let_go()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


@dataclass(frozen=True)
class _Ink:
    """A static layer's texels that show (alpha above 0) inside its open box, where few do."""

    rows: np.ndarray  # each texel's row in the plane, ascending
    at: np.ndarray  # its index in the plane, row-major
    colour: np.ndarray  # n (× channels), 0..1 (float32)
    weight: np.ndarray  # n (× 1): its alpha, 0..1


def _ink(static: tuple) -> _Ink | None:
    """`_Ink` of a static layer with an open box, or None where it covers over 1/8 of the box."""
    colour, alpha, box = static[:3]
    if box is None:
        return None
    top, bottom, left, right = box
    inside = np.ascontiguousarray(alpha[top:bottom, left:right])
    at = np.flatnonzero(inside != 0)
    if at.size * 8 > inside.size:
        return None
    texels = np.ascontiguousarray(colour[top:bottom, left:right]).reshape((inside.size,) + colour.shape[2:])
    weight = (inside.reshape(-1)[at] * _INV255).reshape((-1,) + (1,) * (colour.ndim - 2))
    rows, columns = np.divmod(at, right - left)
    rows += top
    return _Ink(rows, rows * alpha.shape[1] + columns + left, texels[at] * _INV255, weight)


@dataclass(frozen=True)
class _Plane:
    """One plane's inputs for `_compose_rows` (see `compose_plane`)."""

    out: np.ndarray
    back: np.ndarray
    static: tuple | None
    items: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    rows: np.ndarray
    step: PlaneStep
    reveal: tuple[np.ndarray, ...] | None
    columns: Taps | None  # the back texels under each frame column, or None at rest
    down: Taps | None  # the same per frame row
    ink: _Ink | None  # the static layer's few texels that show in its open box
    pairs: np.ndarray | None  # each back texel with its right neighbour (luma, moving across)
    item_ink: np.ndarray | None = None  # the rows where the build items have ink (bool)
    revealed: _Revealed | None = None  # a chart appearing over a still picture: both outcomes, as bytes


@dataclass(frozen=True)
class _Revealed:
    """Rows [top, bottom) of a plane drawn twice, with the chart's image and with its base.

    Over a back layer at rest (no camera, no drift) and at full opacity, what a texel of
    the chart shows is one of those two, whatever the clock; a frame's row that no build
    item crosses is then a choice between them per texel, the same bytes as blending it.
    The choice is made in whole texels (`_texels`) with bitwise operations:
    ``base ^ (flips & m)``, m all ones where the texel shows the image (a masked copy
    took five times as long).
    """

    top: int
    bottom: int
    base: np.ndarray  # the rows before any part of it has appeared, as whole texels (`_texels`)
    flips: np.ndarray  # base ^ the rows as the finished chart shows them, likewise


def compose_plane(
    out: np.ndarray,
    back: np.ndarray,
    static: tuple[np.ndarray, np.ndarray, tuple | None, np.ndarray] | None,
    items: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    rows: np.ndarray,
    step: PlaneStep,
    work: LayerWork,
    reveal: tuple[np.ndarray, ...] | None = None,
) -> None:
    """Draw one plane (luma H×W or chroma H/2×W/2×2) of a layered slide into `out`.

    `static` is (colour, alpha, open box, ink rows) or None; `items` (colour, alpha, ink
    rows) or None; `reveal` (image colour, image alpha, base colour, base alpha, times, rows) or None.
    Work goes a block of rows at a time, split between `work`'s threads. Only what can
    change is computed: the back layer only inside the static layer's open box, rows
    with nothing over their back layer at rest are copied, a row blends a build item
    only where the item's ink reaches it while the item shows, and a chart appearing
    over a still picture is blended once per slide both ways, each frame choosing per
    texel (`_Revealed`). Each texel still gets the shader's arithmetic (the
    back layer's fixed-point bilinear, `engine.composite.resample`, then float32), so
    the bytes are those of the full formula.
    """
    height, width = out.shape[:2]
    sx, ox, sy, oy = (_F(v) for v in step.back_map)
    columns = taps(width, sx, ox, back.shape[1])
    plane = _Plane(
        out,
        back,
        static,
        items,
        rows,
        step,
        reveal,
        columns,
        taps(height, sy, oy, back.shape[0]),
        None if static is None else work.ink(static),
        work.pairs(back) if columns is not None and scattered(columns) else None,
        None if items is None else items[2],
    )
    if reveal is not None and plane.columns is None and plane.down is None and step.reveal_opacity == 1.0:
        plane = replace(plane, revealed=work.revealed(plane))
    work.run(partial(_compose_rows, plane), height)


def _compose_rows(plane: _Plane, top: int, bottom: int, work: Scratch) -> None:
    """Rows [top, bottom) of `plane`, with one thread's scratch."""
    out, back, static = plane.out, plane.back, plane.static
    width = out.shape[1]
    window = _window(plane, top, bottom)
    moving = plane.columns is not None or plane.down is not None
    mixed = None
    if window is not None and moving:
        mixed = across(back, plane.columns, plane.down, window, work, plane.pairs)
    for r0 in range(top, bottom, work.rows):
        r1 = min(bottom, r0 + work.rows)
        revealed, crossed = plane.revealed, _item_rows(plane, r0, r1)
        if not crossed and not _reveal_rows(plane, r0, r1):
            _copy_rows(plane, r0, r1, window, mixed, work)  # nothing is blended over these rows
        elif revealed is not None and not crossed:  # a chart appearing, no item over it
            a, b = max(r0, revealed.top), min(r1, revealed.bottom)
            for outside in ((r0, a), (b, r1)):  # (rows the chart does not touch)
                if outside[0] < outside[1]:
                    _copy_rows(plane, *outside, window, mixed, work)
            _choose_revealed(plane, revealed, a, b)
        elif static is None and mixed is None and plane.reveal is None:  # a build over a still back
            np.copyto(out[r0:r1], back[r0:r1])
            _items_bytes(out[r0:r1], back[r0:r1], plane.items, plane.rows, plane.step.items, r0, r1)
        else:
            shape = (r1 - r0, width) + out.shape[2:]
            value = _under(plane, r0, r1, window, mixed, work)
            if plane.reveal is not None and plane.reveal[5][r0:r1].any():
                _reveal(value, plane.reveal, plane.step, r0, r1, work, shape)
            if plane.items is not None:
                _items(value, plane.items, plane.rows, plane.step.items, r0, r1, work, shape)
            _store(out[r0:r1], value)


def _copy_rows(plane: _Plane, r0: int, r1: int, window, mixed, work: Scratch) -> None:
    """Rows [r0, r1) with nothing blended over them: the static layer's bytes, the back
    layer's through the static layer's open box (`window`, None where there is none)."""
    out, back, static = plane.out, plane.back, plane.static
    wtop, wbottom, c0, c1 = window if window is not None else (0, 0, 0, 0)
    a, b = max(r0, wtop), min(r1, wbottom)  # the rows that show the back layer
    if static is not None:  # (around the texels the back layer shows through)
        if a < b:
            for part in np.s_[r0:a], np.s_[b:r1], np.s_[a:b, :c0], np.s_[a:b, c1:]:
                np.copyto(out[part], static[0][part])
        else:
            np.copyto(out[r0:r1], static[0][r0:r1])
    if a < b:
        if mixed is None and static is None:  # the back layer at rest, texel for texel
            np.copyto(out[r0:r1], back[r0:r1])
            return
        _back_bytes(out[a:b, c0:c1], plane, (a, b, c0, c1), mixed, work)


def _under(plane: _Plane, r0: int, r1: int, window, mixed, work: Scratch) -> np.ndarray:
    """Rows [r0, r1) of the back layer with the static layer over it, as floats (scratch
    float block 0): what the chart and the build items are blended over."""
    static = plane.static
    value = work.float_block(0, (r1 - r0,) + plane.out.shape[1:])
    if static is not None:
        np.multiply(static[0][r0:r1], _INV255, out=value)
    if window is not None:
        wtop, wbottom, c0, c1 = window
        a, b = max(r0, wtop), min(r1, wbottom)
        if a < b:
            value[a - r0 : b - r0, c0:c1] = _back_block(plane, (a, b, c0, c1), mixed, work)
    return value


def _revealed(plane: _Plane, work: Scratch) -> _Revealed:
    """`_Revealed` of a plane whose back layer is at rest: the rows the chart touches,
    blended once over the picture with the chart's image and once with its base, by the
    very operations `_reveal` applies to each frame (a clock past every texel's time, or
    before any)."""
    assert plane.reveal is not None
    image, image_alpha, base, base_alpha, _, touched = plane.reveal
    rows = np.flatnonzero(touched)
    top, bottom = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
    shown, hidden = (np.empty((bottom - top,) + plane.out.shape[1:], np.uint8) for _ in range(2))
    window = _window(plane, 0, plane.out.shape[0])
    for r0 in range(top, bottom, work.rows):
        r1 = min(bottom, r0 + work.rows)
        shape = (r1 - r0,) + plane.out.shape[1:]
        under = _under(plane, r0, r1, window, None, work)
        value = work.float_block(3, shape)  # (free once `_under` is done; `_over` uses 1, 2 and 4)
        for out, colour, alpha in ((shown, image, image_alpha), (hidden, base, base_alpha)):
            np.copyto(value, under)
            _over(value, colour[r0:r1], alpha[r0:r1], None, work, shape)
            _store(out[r0 - top : r1 - top], value)
    return _Revealed(top, bottom, _texels(hidden), np.bitwise_xor(_texels(shown), _texels(hidden)))


def _choose_revealed(plane: _Plane, revealed: _Revealed, a: int, b: int) -> None:
    """Rows [a, b) of a chart appearing with no item over it: per texel, the image's bytes
    where its time has come, the base's elsewhere."""
    if a >= b:
        return
    assert plane.reveal is not None
    out = _texels(plane.out[a:b])
    shown = plane.reveal[4][a:b] <= plane.step.reveal_threshold
    rows = slice(a - revealed.top, b - revealed.top)
    ones = np.negative(shown.view(np.uint8) if out.dtype == np.uint8 else shown.astype(out.dtype))  # (0 or all ones)
    np.bitwise_and(revealed.flips[rows], ones if out.ndim == 2 else ones[..., None], out=out)
    np.bitwise_xor(out, revealed.base[rows], out=out)


def _texels(block: np.ndarray) -> np.ndarray:
    """A block of a plane as whole texels where they fit a machine word: luma as it is,
    (Cb, Cr) as one uint16 (a view, never a copy); an RGB frame's stays in bytes."""
    if block.ndim == 3 and block.shape[2] == 2:
        return block.view(np.uint16)[..., 0]
    return block


def _window(plane: _Plane, top: int, bottom: int) -> tuple[int, int, int, int] | None:
    """The texels of rows [top, bottom) that may show the back layer, (top, bottom,
    left, right): all, or the static layer's open box; None where none do."""
    window = (top, bottom, 0, plane.out.shape[1])
    if plane.static is not None:
        box = plane.static[2]
        if box is None:
            return None
        window = (max(top, box[0]), min(bottom, box[1]), box[2], box[3])
    return window if window[0] < window[1] else None


def _back_texels(plane: _Plane, box: tuple[int, int, int, int], mixed, work: Scratch) -> np.ndarray:
    """Texels [a, b) × [c0, c1) (`box`) of the back layer through the window, as bytes (read only)."""
    a, b, c0, c1 = box
    if mixed is None:
        return plane.back[a:b, c0:c1]
    texels = work.byte_block((b - a, c1 - c0) + plane.back.shape[2:])
    down(texels, mixed, plane.down, a, b, work)
    return texels


def _back_bytes(out: np.ndarray, plane: _Plane, box: tuple[int, int, int, int], mixed, work: Scratch) -> None:
    """out ← texels `box`: the back layer with the static layer over it, as bytes.

    Where the static layer is clear the bytes are the back layer's (``rint(v/255 · 255)``
    is v); where it is opaque, ``b + 1·(s − b)`` is within 2⁻²⁴ of s and stores as s, so
    the blend runs without a mask there.
    """
    a, b, c0, c1 = box
    static = plane.static
    if mixed is None:
        np.copyto(out, plane.back[a:b, c0:c1])
    else:
        down(out, mixed, plane.down, a, b, work)
    if static is None:
        return
    ink = plane.ink
    if ink is None:  # a static layer over much of the box: blend every texel
        inside = work.float_block(3, out.shape)
        np.multiply(out, _INV255, out=inside)
        _over(inside, static[0][a:b, c0:c1], static[1][a:b, c0:c1], None, work, out.shape)
        _store(out, inside)
        return
    first, last = np.searchsorted(ink.rows, (a, b)).tolist()
    if first < last:  # text over a picture: blend only the texels the layer covers
        texels = np.reshape(plane.out, (-1,) + plane.out.shape[2:], copy=False)  # (`out` is a view of it)
        at = ink.at[first:last]
        value = texels[at] * _INV255
        colour = ink.colour[first:last]
        texels[at] = np.rint((value + (colour - value) * ink.weight[first:last]) * _F255)


def _back_block(plane: _Plane, box: tuple[int, int, int, int], mixed, work: Scratch) -> np.ndarray:
    """Texels `box`: the back layer, the static layer over it, as floats.

    Under an opaque static texel the shader takes the static colour itself.
    """
    a, b, c0, c1 = box
    static = plane.static
    texels = _back_texels(plane, box, mixed, work)
    inside = work.float_block(3, texels.shape)
    np.multiply(texels, _INV255, out=inside)
    if static is not None:
        alpha = static[1][a:b, c0:c1]
        if alpha.any():
            _over(inside, static[0][a:b, c0:c1], alpha, None, work, texels.shape, keep_opaque=True)
    return inside


def _store(out: np.ndarray, value: np.ndarray) -> None:
    """out ← rint(value · 255) as bytes (value is scratch: it is overwritten)."""
    np.multiply(value, _F255, out=value)
    np.rint(value, out=out, casting="unsafe")  # (rounded in float32, then cast: one pass fewer)


def _reveal_rows(plane: _Plane, r0: int, r1: int) -> bool:
    return plane.reveal is not None and bool(plane.reveal[5][r0:r1].any())


def _item_rows(plane: _Plane, r0: int, r1: int) -> bool:
    """Do rows [r0, r1) show some ink of a build item that is not fully transparent?

    An item's band runs down to the next one's (the last to the frame's foot), far past
    its ink; rows that would show only the band's clear texels are not blended over.
    """
    if plane.items is None or plane.item_ink is None:
        return False
    ids = plane.rows[r0:r1]
    if not ids.any():
        return False
    table = plane.step.items
    source = np.arange(r0, r1, dtype=np.intp) - table[ids, 2].astype(np.intp)
    showing = (ids > 0) & (table[ids, 0] > 0) & (source >= 0) & (source < plane.rows.size)
    source, ids = source[showing], ids[showing]
    return bool((plane.item_ink[source] & (plane.rows[source] == ids)).any())


def compose_rgb(out: np.ndarray, layers: LayerRGB, state: MotionState, work: LayerWork) -> None:
    """Draw a layered slide in `state` as an H×W×3 RGB frame into `out`: motion.frag on RGB.

    `work` needs room for three channels (``LayerWork(width, channels=3)``).
    """
    static, items = layers.static, layers.items
    reveal = None
    if layers.reveal is not None:
        image, base, times, rows = layers.reveal
        reveal = (image.colour, image.alpha, base.colour, base.alpha, times, rows)
    compose_plane(
        out,
        layers.back,
        None if static is None else (static.colour, static.alpha, static.open_box, static.ink_rows),
        None if items is None else (items.colour, items.alpha, items.ink_rows),
        layers.rows,
        plan_layers(layers, state)[0],  # full size: the luma plane's numbers
        work,
        reveal,
    )


def _over(value, colour, alpha, opacity, work: Scratch, shape, keep_opaque: bool = False, texel_opacity=None) -> None:
    """value ← value + a·(colour − value), a = alpha (× opacity, one per row, or one per texel).

    With `keep_opaque`, a texel of alpha 1 is the colour itself, as the shader takes it.
    """
    f, a, d = work.float_block(4, shape), work.float_block(2, shape[:2]), work.float_block(1, shape)
    np.multiply(colour, _INV255, out=f)
    np.multiply(alpha, _INV255, out=a)
    if opacity is not None:
        np.multiply(a, opacity[:, None], out=a)
    if texel_opacity is not None:
        np.multiply(a, texel_opacity, out=a)
    per_texel = a if value.ndim == 2 else a[..., None]
    np.subtract(f, value, out=d)
    np.multiply(d, per_texel, out=d)
    np.add(value, d, out=value)
    if keep_opaque:
        opaque = alpha == 255
        np.copyto(value, f, where=opaque if value.ndim == 2 else opaque[..., None])


def _reveal(value, reveal, step: PlaneStep, r0: int, r1: int, work: Scratch, shape) -> None:
    """Blend the chart's image where its time has come, its base elsewhere, over rows [r0, r1)."""
    image, image_alpha, base, base_alpha, times, _ = reveal
    shown = times[r0:r1] <= step.reveal_threshold
    per_texel = shown if value.ndim == 2 else shown[..., None]
    colour = np.where(per_texel, image[r0:r1], base[r0:r1])
    alpha = np.where(shown, image_alpha[r0:r1], base_alpha[r0:r1])
    opacity = None
    if step.reveal_opacity != 1.0:
        # The image's alpha times the opacity, the base's as it is: a per-texel factor.
        opacity = np.where(shown, _F(step.reveal_opacity), _F1)
    _over(value, colour, alpha, None, work, shape, texel_opacity=opacity)


def _items(value, items, rows, table, r0, r1, work: Scratch, shape) -> None:
    """Blend the build items shown on rows [r0, r1), each shifted by its offset."""
    shown = _item_texels(items, rows, table, r0, r1)
    if shown is not None:
        texels, weights, opacity = shown
        _over(value, texels, weights, opacity, work, shape)


def _items_bytes(out, back, items, rows, table, r0, r1) -> None:
    """`_items` where the value under the items is `back`'s bytes (at rest, nothing over it).

    Only texels an item covers (weight above 0) change, so only they are computed, as
    floats, and stored; the others keep the back layer's bytes, which is what
    ``rint(b/255 · 255)`` gives.
    """
    shown = _item_texels(items, rows, table, r0, r1)
    if shown is None:
        return
    texels, weights, opacity = shown
    texel_count, width = weights.size, weights.shape[1]
    at = np.flatnonzero(weights.reshape(-1) != 0)  # (a comparison first: far faster than nonzero on bytes)
    a = weights.reshape(-1)[at] * _INV255
    a = a * opacity[at // width]
    flat_out = out.reshape(texel_count, -1)
    value = back.reshape(texel_count, -1)[at] * _INV255
    value = value + (texels.reshape(texel_count, -1)[at] * _INV255 - value) * a[:, None]
    flat_out[at] = np.rint(value * _F255)


def _item_texels(items, rows, table, r0, r1):
    """(texels, weights, opacity per row) the items show on rows [r0, r1), or None."""
    colour, alpha = items[:2]
    height, width = colour.shape[:2]
    ids = rows[r0:r1].astype(np.intp)
    if not ids.any():
        return None
    dx = table[ids, 1].astype(np.intp)
    dy = table[ids, 2].astype(np.intp)
    source_rows = np.arange(r0, r1, dtype=np.intp) - dy
    safe_rows = np.clip(source_rows, 0, height - 1)
    # A row shows its item only from rows of that same item: bands never bleed.
    shown = (ids > 0) & (source_rows == safe_rows) & (rows[safe_rows] == ids)
    if not shown.any():
        return None
    if not dx.any():  # items that rise or fade: whole rows move
        texels, weights = colour[safe_rows], alpha[safe_rows]
        weights[~shown] = 0
    else:
        source_cols = np.arange(width, dtype=np.intp)[None, :] - dx[:, None]
        safe_cols = np.clip(source_cols, 0, width - 1)
        texels, weights = colour[safe_rows[:, None], safe_cols], alpha[safe_rows[:, None], safe_cols]
        weights[~((source_cols == safe_cols) & shown[:, None])] = 0
    return texels, weights, table[ids, 0]
