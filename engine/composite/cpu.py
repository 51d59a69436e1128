"""The numpy compositor: the reference the GL compositor is tested against.

Slides are held as NV12 buffers (`engine.colour.rgb_to_nv12`, once per slide) and
every built-in transition has a twin here that mirrors its shader's arithmetic: the
same float32 uv at pixel centres, nearest texels at ``floor(uv * size)`` clamped to
the edge, the same progress and edge formulas, and ``rint(v · 255)`` rounding as
llvmpipe's UNORM8 targets store it. Every built-in depends on x alone, so a twin works out
per-column weights and source columns, copies whole column ranges where a single
slide shows, and blends in float32 only where it must, a block of rows at a time so
the temporaries stay in cache.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..colour import nv12_planes, nv12_size, rgb_to_nv12
from ..errors import RenderError
from .base import FrameSpec, PlaneParams, SlideHandle, check_image, check_into, check_size, plan_transition

__all__ = ["CPUCompositor"]


# --- plane kernels ----------------------------------------------------------------------

# float32 elements per block of rows (2 × 256 KiB of scratch): the passes of a blend
# then run in cache (~15 % faster at 1080p than whole-plane passes).
_BLOCK = 1 << 16
# More separate column ranges than this and one fancy-indexed copy is cheaper.
_MAX_RUNS = 8

_F0, _F05, _F1, _F2, _F3, _F255 = (np.float32(v) for v in (0.0, 0.5, 1.0, 2.0, 3.0, 255.0))
_INV255 = np.float32(1 / 255)  # how a UNORM8 texel becomes a float


def _pixel_centres(width: int) -> np.ndarray:
    """uv.x of each column, as the shader computes it: gl_FragCoord.x / width."""
    return (np.arange(width, dtype=np.float32) + _F05) / np.float32(width)


def _texel_columns(u: np.ndarray, width: int) -> np.ndarray:
    """Nearest texel column for coordinates u, clamped to the edge (texelFetch in the prelude)."""
    return np.clip(np.floor(u * np.float32(width)), 0, width - 1).astype(np.intp)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a 1-D boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def _column_weights(weights: np.ndarray, ndim: int) -> np.ndarray:
    # Per-column weights broadcast over rows, and over (Cb, Cr) on the chroma plane.
    return weights if ndim == 2 else weights[:, None]


def _blend(out: np.ndarray, a, b, weight, scratch: np.ndarray) -> None:
    """out = mix(a, b, weight) exactly as a fragment shader on a UNORM8 target does it.

    a and b are uint8 planes shaped like `out`, or float32 per-channel constants already
    in 0..1 (a flat colour uniform); weight is a scalar or per-column weights shaped to
    broadcast (`_column_weights`). Texels become floats as ``u8 · float32(1/255)``, mix
    is ``a + t·(b − a)``, and the result is stored as ``rint(v · 255)``: on llvmpipe
    that reproduces the shader bit for bit. Work goes a block of rows at a time.
    """
    rows, row_size = out.shape[0], out[0].size
    step = max(1, _BLOCK // row_size)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        shape = (r1 - r0,) + out.shape[1:]
        tmp = scratch[0, : (r1 - r0) * row_size].reshape(shape)
        a_rows = _normalised(a, out.ndim, r0, r1, scratch[1, : tmp.size].reshape(shape))
        b_rows = _normalised(b, out.ndim, r0, r1, tmp)
        np.subtract(b_rows, a_rows, out=tmp)
        np.multiply(tmp, weight, out=tmp)
        np.add(tmp, a_rows, out=tmp)
        np.multiply(tmp, _F255, out=tmp)
        np.rint(tmp, out=tmp)
        np.copyto(out[r0:r1], tmp, casting="unsafe")


def _normalised(x: np.ndarray, ndim: int, r0: int, r1: int, into: np.ndarray) -> np.ndarray:
    """Rows r0:r1 of a uint8 plane as 0..1 floats (in `into`), or a constant as it is."""
    if x.ndim != ndim:
        return x
    return np.multiply(x[r0:r1], _INV255, out=into)


def _gather(out: np.ndarray, src: np.ndarray, columns: np.ndarray, source_columns: np.ndarray) -> None:
    """out[:, c] = src[:, source_columns[c]] for every c where `columns` is True.

    Moves keep neighbouring columns neighbours, so this is a few slice copies; float
    rounding can repeat or skip one source column, which splits a run but stays exact.
    """
    pieces = []
    for start, stop in _runs(columns):
        index = source_columns[start:stop]
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        bounds = [start, *(start + breaks).tolist(), stop]
        pieces += [(lo, hi, int(source_columns[lo])) for lo, hi in zip(bounds[:-1], bounds[1:])]
    if len(pieces) > _MAX_RUNS:
        out[:, columns] = src[:, source_columns[columns]]
        return
    for lo, hi, first in pieces:
        np.copyto(out[:, lo:hi], src[:, first : first + hi - lo])


def _masked_blend(out, a, b, reveal: np.ndarray, scratch: np.ndarray) -> None:
    """Per-column mix(a, b, reveal): copies where reveal is 0 or 1, a blend in between."""
    for start, stop in _runs(reveal == _F0):
        np.copyto(out[:, start:stop], a[:, start:stop])
    for start, stop in _runs(reveal == _F1):
        np.copyto(out[:, start:stop], b[:, start:stop])
    for start, stop in _runs((reveal > _F0) & (reveal < _F1)):
        weight = _column_weights(reveal[start:stop], out.ndim)
        _blend(out[:, start:stop], a[:, start:stop], b[:, start:stop], weight, scratch)


def _smoothstep(edge0, edge1, x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):  # a band narrower than float32 resolves
        t = (x - edge0) / (edge1 - edge0)
    t = np.fmax(np.fmin(t, _F1), _F0)  # fmin/fmax, unlike clip, turn a 0/0 into a weight
    return t * t * (_F3 - _F2 * t)


# --- transition twins, one per shaders/transitions/<name>.glsl ---------------------------
# Each takes (out, from_plane, to_plane, progress as float32, plane params, scratch).

Twin = Callable[[np.ndarray, np.ndarray, np.ndarray, np.float32, PlaneParams, np.ndarray], None]


def _cut(out, a, b, progress, params, scratch) -> None:
    np.copyto(out, a if progress < _F05 else b)


def _fade(out, a, b, progress, params, scratch) -> None:
    _blend(out, a, b, progress, scratch)


def _fadeblack(out, a, b, progress, params, scratch) -> None:
    channels = 1 if out.ndim == 2 else out.shape[2]
    # The colour uniform (0..1) as one whole row: numpy broadcasts a row over rows
    # far faster than a 2-element (Cb, Cr) vector over every pixel.
    flat = np.empty(out.shape[1:], dtype=np.float32)
    flat[...] = np.asarray(params["color"][:channels], dtype=np.float32)
    t = progress * _F2
    if t < _F1:
        _blend(out, a, flat, t, scratch)
    else:
        _blend(out, flat, b, t - _F1, scratch)


def _wipe(out, a, b, x, progress, softness, scratch) -> None:
    softness = max(softness, _F0)
    edge = _F1 - progress * (_F1 + softness)
    if softness > _F0:
        reveal = _smoothstep(edge, edge + softness, x)
    else:
        reveal = (x >= edge).astype(np.float32)
    _masked_blend(out, a, b, reveal, scratch)


def _wipeleft(out, a, b, progress, params, scratch) -> None:
    x = _pixel_centres(out.shape[1])
    _wipe(out, a, b, x, progress, np.float32(params["softness"]), scratch)


def _wiperight(out, a, b, progress, params, scratch) -> None:
    x = _F1 - _pixel_centres(out.shape[1])
    _wipe(out, a, b, x, progress, np.float32(params["softness"]), scratch)


def _slideleft(out, a, b, progress, params, scratch) -> None:
    width = out.shape[1]
    x = _pixel_centres(width) + progress
    shows_from = x < _F1
    _gather(out, a, shows_from, _texel_columns(x, width))
    _gather(out, b, ~shows_from, _texel_columns(x - _F1, width))


def _slideright(out, a, b, progress, params, scratch) -> None:
    width = out.shape[1]
    x = _pixel_centres(width) - progress
    shows_from = x >= _F0
    _gather(out, a, shows_from, _texel_columns(x, width))
    _gather(out, b, ~shows_from, _texel_columns(x + _F1, width))


TWINS: dict[str, Twin] = {
    "cut": _cut,
    "fade": _fade,
    "fadeblack": _fadeblack,
    "wipeleft": _wipeleft,
    "wiperight": _wiperight,
    "slideleft": _slideleft,
    "slideright": _slideright,
}


# --- the compositor ---------------------------------------------------------------------


class CPUCompositor:
    """Compositor on numpy alone: always available, and the reference for tests."""

    name = "cpu"
    kind = "cpu"
    renderer = "numpy"

    def __init__(self, width: int, height: int) -> None:
        check_size(width, height)
        self.width, self.height = width, height
        self._handles: dict[str, SlideHandle] = {}
        self._slides: list[np.ndarray | None] = []  # flat NV12 buffers, by handle index
        self._frame = np.empty(nv12_size(width, height), dtype=np.uint8)
        # Both planes have rows of `width` bytes; a block holds at least one row.
        self._scratch = np.empty((2, max(_BLOCK, width)), dtype=np.float32)
        self._current: np.ndarray | None = None
        self._closed = False

    def upload(self, key: str, image: np.ndarray) -> SlideHandle:
        self._check_open()
        if key in self._handles:
            return self._handles[key]
        nv12 = rgb_to_nv12(check_image(image, self.width, self.height))
        handle = SlideHandle(key, len(self._slides))
        self._slides.append(nv12)
        self._handles[key] = handle
        return handle

    def render(self, frame: FrameSpec) -> None:
        self._check_open()
        source = self._slide(frame.source)
        step = plan_transition(frame)
        if step is None:
            self._current = source  # a hold is the slide itself: nothing to compute
            return
        target = self._slide(frame.target)
        twin = TWINS.get(step.name)
        if twin is None:  # a catalogue entry without its twin: our bug, not the deck's
            raise RenderError(f"transition {step.name!r} has no numpy implementation")
        progress = np.float32(step.progress)
        planes = zip(
            nv12_planes(self._frame, self.width, self.height),
            nv12_planes(source, self.width, self.height),
            nv12_planes(target, self.width, self.height),
            (step.luma, step.chroma),
        )
        for out, a, b, params in planes:
            twin(out, a, b, progress, params, self._scratch)
        self._current = self._frame

    def release(self, handle: SlideHandle) -> None:
        self._check_open()
        self._slide(handle)  # a handle from elsewhere is a bug worth hearing about
        del self._handles[handle.key]
        self._slides[handle.index] = None  # indices of live handles stay valid

    def read_nv12(self, into: np.ndarray) -> None:
        self._check_open()
        check_into(into, self.width, self.height)
        if self._current is None:
            raise RenderError("read_nv12 called before any frame was rendered")
        np.copyto(into, self._current)

    def close(self) -> None:
        self._slides.clear()
        self._handles.clear()
        self._current = None
        self._closed = True

    def _slide(self, handle: SlideHandle) -> np.ndarray:
        if not isinstance(handle, SlideHandle) or self._handles.get(handle.key) != handle:
            raise ValueError(f"{handle!r} was not uploaded to this compositor")
        return self._slides[handle.index]

    def _check_open(self) -> None:
        if self._closed:
            raise RenderError("the compositor is closed")
