"""Numpy twins of the built-in transition shaders, for the CPU compositor.

Each ``shaders/transitions/<name>.glsl`` has a twin here that repeats its arithmetic in
float32: the same uv at pixel centres, nearest texels at ``floor(uv * size)`` clamped
to the edge, the same formulas in the same order (where Mesa's shader compiler
simplifies an expression, the twin writes the simplified form and says so), and
``rint(v · 255)`` rounding as llvmpipe's UNORM8 targets store it. On llvmpipe the two
agree bit for bit; elsewhere within a code value or so.

A twin takes ``(out, a, b, progress, params, work)``: one plane of the frame and the
same plane of both slides, luma (H×W uint8) or chroma (H/2×W/2×2 uint8), progress as
float32, the plane's parameters (colours as that plane's components, see
``plan_transition``) and the compositor's `Workspace` (`workspace.py`, with the texel moves twins share). Twins never allocate per frame
beyond a few per-row or per-column vectors: whole-plane work goes a block of rows at a
time through the workspace's buffers, which stay in cache.

Twins whose shader depends on x alone (wipeleft, slides, covers, reveals) or on y
alone (wipeup, slideup) copy whole column or row ranges; separable ones (zooms,
pixelize) gather rows, then columns; the rest (wipediagonal, circles, clockwipe,
dissolve, blurfade, ripple, lumawipe, cube) work per texel, a block of rows at a time, copying
rather than blending wherever a block shows one slide. A chroma texel (Cb, Cr) moves
as one uint16, so a gather reads both channels at once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import PlaneParams
from .workspace import (
    Workspace,
    blend,
    gather_columns,
    gather_rows,
    mix_rows,
    per_texel,
    texel_view,
    true_runs,
)

__all__ = ["TWINS", "Twin"]

_F = np.float32
_F0, _F025, _F05, _F1, _F2, _F3, _F4, _F255 = (_F(v) for v in (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 255.0))
_INV255 = _F(1 / 255)  # how a UNORM8 texel becomes a float


def _columns(u: np.ndarray, width: int) -> np.ndarray:
    """Texel column for each of a vector of x coordinates (a new small vector)."""
    return np.clip(np.floor(u * _F(width)), 0, width - 1).astype(np.intp)


def _rows_down(v_down: np.ndarray, height: int) -> np.ndarray:
    """Texel row for each of a vector of y coordinates already flipped (1 − uv.y)."""
    return np.clip(np.floor(v_down * _F(height)), 0, height - 1).astype(np.intp)


# --- blends --------------------------------------------------------------------------


def _flat_colour(params: PlaneParams, key: str, out: np.ndarray) -> np.ndarray:
    """A colour uniform as this plane's float32 components (1 for luma, 2 for chroma)."""
    channels = 1 if out.ndim == 2 else out.shape[2]
    return np.asarray(params[key][:channels], dtype=np.float32).reshape(out.shape[2:])


# --- masks ---------------------------------------------------------------------------


def _smoothstep(
    edge0, edge1, x: np.ndarray, out: np.ndarray | None = None, spare: np.ndarray | None = None
) -> np.ndarray:
    """GLSL smoothstep as Mesa lowers it: t = clamp((x − e0) / (e1 − e0)), t · (t · (3 − 2t))."""
    t = np.subtract(x, edge0, out=out)
    with np.errstate(divide="ignore", invalid="ignore"):  # a band narrower than float32 resolves
        np.divide(t, edge1 - edge0, out=t)
    np.fmin(t, _F1, out=t)  # fmin/fmax, unlike clip, turn a 0/0 into a weight
    np.fmax(t, _F0, out=t)
    if out is None:
        return t * (t * (_F3 - _F2 * t))
    # In place: 3 − 2t needs one more buffer, the caller's `spare`.
    spare = np.multiply(t, _F2, out=spare)
    np.subtract(_F3, spare, out=spare)
    np.multiply(spare, t, out=spare)
    return np.multiply(spare, t, out=t)


def _reveal(t, progress, softness, band_from_edge, out=None, spare=None):
    """The wipes' weight of the next slide at sweep coordinates t (1 = revealed first).

    ``edge = start − progress · (span + band)``; start and span are 1 and 1 for the
    wipes, 1.001 and 1.002 where some texel may sit exactly at t = 1 or 0 (circles,
    clock): the edge then starts and ends just outside 0..1.
    """
    edge, band = _edge(progress, softness, band_from_edge)
    if band > _F0:
        return _smoothstep(edge, edge + band, t, out, spare)
    if out is None:
        return (t >= edge).astype(np.float32)
    return np.greater_equal(t, edge, out=out)  # step(edge, t): 0.0 or 1.0


def _edge(progress, softness, band_from_edge):
    """(edge, band) of `_reveal`: the weight rises from 0 at t = edge to 1 at t = edge + band."""
    start, span = band_from_edge
    band = max(softness, _F0)
    return start - progress * (span + band), band


_WIPE = (_F1, _F1)
_IRIS = (_F(1.001), _F(1.002))


def _masked_blend(out, a, b, reveal: np.ndarray, scratch: np.ndarray) -> None:
    """Per-column mix(a, b, reveal): copies where reveal is 0 or 1, a blend in between."""
    for start, stop in true_runs(reveal == _F0):
        np.copyto(out[:, start:stop], a[:, start:stop])
    for start, stop in true_runs(reveal == _F1):
        np.copyto(out[:, start:stop], b[:, start:stop])
    for start, stop in true_runs((reveal > _F0) & (reveal < _F1)):
        weight = per_texel(reveal[start:stop], out.ndim)
        blend(out[:, start:stop], a[:, start:stop], b[:, start:stop], weight, scratch)


def _masked_blend_rows(out, a, b, reveal: np.ndarray, scratch: np.ndarray) -> None:
    """Per-row mix(a, b, reveal): copies where reveal is 0 or 1, a blend in between."""
    for start, stop in true_runs(reveal == _F0):
        np.copyto(out[start:stop], a[start:stop])
    for start, stop in true_runs(reveal == _F1):
        np.copyto(out[start:stop], b[start:stop])
    for start, stop in true_runs((reveal > _F0) & (reveal < _F1)):
        blend(out[start:stop], a[start:stop], b[start:stop], None, scratch, reveal[start:stop])


def _blend_block(out, a, b, weight: np.ndarray, work: Workspace, hard: bool) -> None:
    """One block of a per-texel mix(a, b, weight): copies where the weight is 0 or 1 throughout.

    `hard`: every weight is 0 or 1 (a step, not a smoothstep), so two copies do it.
    """
    low, high = weight.min(), weight.max()
    if high == _F0:
        np.copyto(out, a)
    elif low == _F1:
        np.copyto(out, b)
    elif hard:
        np.copyto(out, a)
        np.copyto(texel_view(out), texel_view(b), where=np.not_equal(weight, _F0, out=work.flag_block(0, weight.shape)))
    else:
        mix_rows(out, a, b, per_texel(weight, out.ndim), work.float_block(4, out.shape), work.float_block(5, out.shape))


def _sweep(out, a, b, work: Workspace, t_block: Callable, progress, softness, ends) -> None:
    """A wipe along any sweep coordinate: t_block(r0, r1, into) fills t for a block of rows.

    A soft edge blends only inside its band: where t ≤ edge the weight is exactly 0, and
    where t ≥ edge + band exactly 1, so a block's columns with no texel inside the band
    are copies (`_band_block`), the same bytes as blending them.
    """
    width = texel_view(out).shape[1]
    edge, band = _edge(progress, softness, ends)
    banded = band > _F0 and edge + band > edge  # (a band float32 resolves: else 0/0 decides)
    for r0, r1 in work.blocks(out):
        t = t_block(r0, r1, work.float_block(0, (r1 - r0, width)))
        if banded and _band_block(out[r0:r1], a[r0:r1], b[r0:r1], t, edge, edge + band, work):
            continue
        reveal = _reveal(t, progress, softness, ends, work.float_block(1, t.shape), work.float_block(2, t.shape))
        _blend_block(out[r0:r1], a[r0:r1], b[r0:r1], reveal, work, hard=not softness > _F0)


def _band_block(out, a, b, t: np.ndarray, low, high, work: Workspace) -> bool:
    """One block of a soft sweep with the smoothstep and the blend only on the columns
    where some texel has low < t < high, copies elsewhere; False (nothing done) where
    those columns are over half the block: then the whole block blends as before."""
    inside = np.greater(t, low, out=work.flag_block(0, t.shape))
    np.logical_and(inside, np.less(t, high, out=work.flag_block(1, t.shape)), out=inside)
    runs = true_runs(inside.any(axis=0))
    if sum(stop - start for start, stop in runs) * 2 > t.shape[1]:
        return False
    np.copyto(out, a)
    np.copyto(texel_view(out), texel_view(b), where=np.greater_equal(t, high, out=work.flag_block(1, t.shape)))
    for start, stop in runs:
        part = t[:, start:stop]
        weight = _smoothstep(low, high, part, work.float_block(1, part.shape), work.float_block(2, part.shape))
        shape = out[:, start:stop].shape
        mix_rows(
            out[:, start:stop],
            a[:, start:stop],
            b[:, start:stop],
            per_texel(weight, out.ndim),
            work.float_block(4, shape),
            work.float_block(5, shape),
        )
    return True


# --- gathers -------------------------------------------------------------------------


def _take(
    src: np.ndarray, rows: np.ndarray, columns: np.ndarray, into: np.ndarray, rows_buffer: np.ndarray
) -> np.ndarray:
    """into = src[rows][:, columns] for a separable mapping (texels: 2-D, see `texel_view`)."""
    np.take(src, rows, axis=0, out=rows_buffer, mode="clip")
    np.take(rows_buffer, columns, axis=1, out=into, mode="clip")
    return into


def _separable(out, a, b, progress, work: Workspace, a_map, b_map) -> None:
    """out = mix(a at a_map, b at b_map, progress), each map (rows, columns) or None for identity."""
    pa, pb, po = texel_view(a), texel_view(b), texel_view(out)
    for r0, r1 in work.blocks(out):
        sources = []
        for k, (plane, mapping) in enumerate(((pa, a_map), (pb, b_map))):
            if mapping is None:
                sources.append(plane[r0:r1].view(np.uint8).reshape((r1 - r0,) + out.shape[1:]))
                continue
            rows, columns = mapping
            into = work.texel_block(k, po[r0:r1])
            # The rows gathered first, then the columns: the row buffer is texel buffer 2 or 3.
            rows_buffer = work.texel_block(2 + k, po[r0:r1])
            _take(plane, rows[r0:r1], columns, into, rows_buffer)
            sources.append(into.view(np.uint8).reshape((r1 - r0,) + out.shape[1:]))
        block = out[r0:r1]
        mix_rows(
            block, sources[0], sources[1], progress, work.float_block(4, block.shape), work.float_block(5, block.shape)
        )


# --- transition twins, one per shaders/transitions/<name>.glsl ---------------------------

Twin = Callable[[np.ndarray, np.ndarray, np.ndarray, np.float32, PlaneParams, Workspace], None]


def _cut(out, a, b, progress, params, work) -> None:
    np.copyto(out, a if progress < _F05 else b)


def _fade(out, a, b, progress, params, work) -> None:
    blend(out, a, b, progress, work.scratch)


def _fadeblack(out, a, b, progress, params, work) -> None:
    # The colour uniform (0..1) as one whole row: numpy broadcasts a row over rows
    # far faster than a 2-element (Cb, Cr) vector over every pixel.
    flat = np.empty(out.shape[1:], dtype=np.float32)
    flat[...] = _flat_colour(params, "color", out)
    t = progress * _F2
    if t < _F1:
        blend(out, a, flat, t, work.scratch)
    else:
        blend(out, flat, b, t - _F1, work.scratch)


def _wipeleft(out, a, b, progress, params, work) -> None:
    x, _, _ = work.grid(*out.shape[:2])
    reveal = _reveal(x, progress, _F(params["softness"]), _WIPE)
    _masked_blend(out, a, b, reveal, work.scratch)


def _wiperight(out, a, b, progress, params, work) -> None:
    x, _, _ = work.grid(*out.shape[:2])
    reveal = _reveal(_F1 - x, progress, _F(params["softness"]), _WIPE)
    _masked_blend(out, a, b, reveal, work.scratch)


def _wipeup(out, a, b, progress, params, work) -> None:
    # t = 1 − uv.y = 1 − (1 − down): Mesa folds it to `down`.
    _, _, down = work.grid(*out.shape[:2])
    reveal = _reveal(down, progress, _F(params["softness"]), _WIPE)
    _masked_blend_rows(out, a, b, reveal, work.scratch)


def _wipedown(out, a, b, progress, params, work) -> None:
    _, y, _ = work.grid(*out.shape[:2])
    reveal = _reveal(y, progress, _F(params["softness"]), _WIPE)
    _masked_blend_rows(out, a, b, reveal, work.scratch)


def _wipediagonal(out, a, b, progress, params, work) -> None:
    x, y, _ = work.grid(*out.shape[:2])
    left = _F1 - x

    def t_block(r0, r1, into):
        np.add(left[None, :], y[r0:r1, None], out=into)
        return np.multiply(into, _F05, out=into)

    _sweep(out, a, b, work, t_block, progress, _F(params["softness"]), _WIPE)


def _centred(work: Workspace, out_shape, ratio):
    """(dx, dy) per column and row: (uv − 0.5) · (ratio, 1), in frame heights, y up."""
    x, _, down = work.grid(*out_shape[:2])
    return (x - _F05) * ratio, (_F05 - down)  # uv.y − 0.5 as Mesa folds it


def _circle(out, a, b, progress, params, work, opening: bool) -> None:
    ratio = _F(work.ratio)
    dx, dy = _centred(work, out.shape, ratio)
    dx2, dy2 = dx * dx, dy * dy
    corner = np.sqrt(ratio * ratio + _F1) * _F05

    def t_block(r0, r1, into):
        np.add(dy2[r0:r1, None], dx2[None, :], out=into)
        np.sqrt(into, out=into)
        np.divide(into, corner, out=into)
        if opening:
            np.subtract(_F1, into, out=into)
        return into

    _sweep(out, a, b, work, t_block, progress, _F(params["softness"]), _IRIS)


def _circleopen(out, a, b, progress, params, work) -> None:
    _circle(out, a, b, progress, params, work, opening=True)


def _circleclose(out, a, b, progress, params, work) -> None:
    _circle(out, a, b, progress, params, work, opening=False)


_ATAN = [_F(c) for c in ("0.15913361", "-0.052568797", "0.028670331", "-0.013549338", "0.0033160092")]


def _clockwipe(out, a, b, progress, params, work) -> None:
    ratio = _F(work.ratio)
    dx, dy = _centred(work, out.shape, ratio)
    mx, my = np.abs(dx), np.abs(dy)
    c0, c1, c2, c3, c4 = _ATAN
    width = mx.size

    def t_block(r0, r1, into):
        shape = (r1 - r0, width)
        wide = work.flag_block(0, shape)
        np.greater(mx[None, :], my[r0:r1, None], out=wide)  # nearer 3 or 9 o'clock than 12 or 6
        q = work.float_block(2, shape)
        tmp = work.float_block(3, shape)
        # a = m.y / m.x where wide, else m.x / max(m.y, 1e-6): both computed, one kept.
        with np.errstate(divide="ignore", invalid="ignore"):  # m.x = 0 only where the other is kept
            np.divide(my[r0:r1, None], mx[None, :], out=q)
        np.divide(mx[None, :], np.maximum(my[r0:r1], _F(1e-6))[:, None], out=tmp)
        np.copyto(q, tmp, where=np.logical_not(wide, out=work.flag_block(1, shape)))
        # atan(a) / 2π = a * (c0 + a2 * (c1 + a2 * (c2 + a2 * (c3 + a2 * c4))))
        a2 = np.multiply(q, q, out=into)
        np.multiply(a2, c4, out=tmp)
        for c in (c3, c2, c1):
            np.add(tmp, c, out=tmp)
            np.multiply(tmp, a2, out=tmp)
        np.add(tmp, c0, out=tmp)
        np.multiply(tmp, q, out=tmp)  # the angle from 12 or 6 o'clock, in turns
        np.subtract(_F025, tmp, out=q)
        np.copyto(tmp, q, where=wide)  # quadrant: 0..0.25 from 12 (or 6) o'clock
        # turns clockwise from 12: q, 0.5 − q, 0.5 + q, 1 − q by the signs of (dx, dy)
        right = dx >= _F0
        up = dy[r0:r1] >= _F0
        np.subtract(_F05, tmp, out=q)
        np.copyto(q, tmp, where=up[:, None])  # right half: q up, 0.5 − q down
        turns_left = work.float_block(4, shape)
        np.add(_F05, tmp, out=turns_left)
        np.subtract(_F1, tmp, out=tmp)
        np.copyto(turns_left, tmp, where=up[:, None])  # left half: 1 − q up, 0.5 + q down
        np.copyto(q, turns_left, where=~right[None, :])
        return np.subtract(_F1, q, out=into)  # t = 1 − turns

    _sweep(out, a, b, work, t_block, progress, _F(params["softness"]), _IRIS)


def _slideleft(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] + progress
    shows_from = x < _F1
    gather_columns(out, a, shows_from, _columns(x, width))
    gather_columns(out, b, ~shows_from, _columns(x - _F1, width))


def _slideright(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] - progress
    shows_from = x >= _F0
    gather_columns(out, a, shows_from, _columns(x, width))
    gather_columns(out, b, ~shows_from, _columns(x + _F1, width))


def _coverleft(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] + progress
    shows_to = x >= _F1
    gather_columns(out, b, shows_to, _columns(x - _F1, width))
    for start, stop in true_runs(~shows_to):
        np.copyto(out[:, start:stop], a[:, start:stop])


def _coverright(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] - progress
    shows_to = x < _F0
    gather_columns(out, b, shows_to, _columns(x + _F1, width))
    for start, stop in true_runs(~shows_to):
        np.copyto(out[:, start:stop], a[:, start:stop])


def _revealleft(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] + progress
    shows_from = x < _F1
    gather_columns(out, a, shows_from, _columns(x, width))
    for start, stop in true_runs(~shows_from):
        np.copyto(out[:, start:stop], b[:, start:stop])


def _revealright(out, a, b, progress, params, work) -> None:
    width = out.shape[1]
    x = work.grid(*out.shape[:2])[0] - progress
    shows_from = x >= _F0
    gather_columns(out, a, shows_from, _columns(x, width))
    for start, stop in true_runs(~shows_from):
        np.copyto(out[:, start:stop], b[:, start:stop])


def _slideup(out, a, b, progress, params, work) -> None:
    height = out.shape[0]
    _, y, _ = work.grid(*out.shape[:2])
    y = y - progress
    shows_from = y >= _F0
    gather_rows(out, a, shows_from, _rows_down(_F1 - y, height))
    gather_rows(out, b, ~shows_from, _rows_down(_F1 - (y + _F1), height))


def _slidedown(out, a, b, progress, params, work) -> None:
    height = out.shape[0]
    _, y, _ = work.grid(*out.shape[:2])
    y = y + progress
    shows_from = y < _F1
    gather_rows(out, a, shows_from, _rows_down(_F1 - y, height))
    gather_rows(out, b, ~shows_from, _rows_down(_F1 - (y - _F1), height))


def _zoom_map(work: Workspace, shape, scale) -> tuple[np.ndarray, np.ndarray]:
    """Texel rows and columns of (uv − 0.5) / scale + 0.5."""
    height, width = shape[:2]
    x, _, down = work.grid(height, width)
    columns = _columns((x - _F05) / scale + _F05, width)
    # Mesa folds the constants: uv.y − 0.5 = (1 − down) − 0.5 becomes 0.5 − down, and
    # the sampler's 1 − (q + 0.5) becomes 0.5 − q.
    rows = _rows_down(_F05 - (_F05 - down) / scale, height)
    return rows, columns


def _zoomin(out, a, b, progress, params, work) -> None:
    scale = _F1 + max(_F(params["strength"]), _F0) * progress
    _separable(out, a, b, progress, work, _zoom_map(work, out.shape, scale), None)


def _zoomout(out, a, b, progress, params, work) -> None:
    scale = _F1 + max(_F(params["strength"]), _F0) * (_F1 - progress)
    _separable(out, a, b, progress, work, None, _zoom_map(work, out.shape, scale))


def _pixelize(out, a, b, progress, params, work) -> None:
    peak = min(progress, _F1 - progress) * _F2
    if not peak > _F0:
        blend(out, a, b, progress, work.scratch)
        return
    height, width = out.shape[:2]
    x, y, _ = work.grid(height, width)
    rows = np.floor(min(max(_F(params["squares"]), _F1), _F(65536.0)) / max(peak, _F(1e-6)))
    across = rows * _F(work.ratio)
    columns = _columns((np.floor(x * across) + _F05) / across, width)
    texel_rows = _rows_down(_F1 - (np.floor(y * rows) + _F05) / rows, height)
    mapping = (texel_rows, columns)
    _separable(out, a, b, progress, work, mapping, mapping)


def _mix_bits(x: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """The transition prelude's `mix_bits`, in place on uint32 `x` (uint32 arithmetic wraps as in GLSL)."""
    for shift, factor in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        np.right_shift(x, shift, out=spare)
        np.bitwise_xor(x, spare, out=x)
        np.multiply(x, factor, out=x)
    np.right_shift(x, 16, out=spare)
    return np.bitwise_xor(x, spare, out=x)


def _dissolve(out, a, b, progress, params, work) -> None:
    x, y, _ = work.grid(*out.shape[:2])
    rows = min(max(_F(params["cells"]), _F1), _F(65536.0))
    across = rows * _F(work.ratio)
    cell_x = np.floor(x * across).astype(np.uint32)
    cell_y = np.floor(y * rows).astype(np.uint32)
    seed = np.asarray(_F(params["seed"])).view(np.uint32)
    row_bits = _mix_bits(cell_y + seed, np.empty_like(cell_y))  # mix_bits(cell.y + seed bits), per row
    ta, tb, to = texel_view(a), texel_view(b), texel_view(out)
    width = to.shape[1]
    for r0, r1 in work.blocks(out):
        shape = (r1 - r0, width)
        bits = np.add(row_bits[r0:r1, None], cell_x[None, :], out=work.bits_block(0, shape))
        _mix_bits(bits, work.bits_block(1, shape))
        np.right_shift(bits, 8, out=bits)
        noise = np.multiply(bits, _F(1 / 16777216), out=work.float_block(0, shape), dtype=np.float32)  # 24 bits: exact
        shows_to = np.less(noise, progress, out=work.flag_block(0, shape))
        np.copyto(to[r0:r1], ta[r0:r1])
        np.copyto(to[r0:r1], tb[r0:r1], where=shows_to)


def _blurfade(out, a, b, progress, params, work) -> None:
    height, width = out.shape[:2]
    ratio = _F(work.ratio)
    r = min(max(_F(params["radius"]), _F0), _F1) * (_F4 * progress * (_F1 - progress))
    step_size = r / _F(127.5)
    x, y, _ = work.grid(height, width)
    cell_x = np.floor(x * (_F(540.0) * ratio)).astype(np.uint32) * np.uint32(0x9E3779B1)
    cell_y = np.floor(y * _F(540.0)).astype(np.uint32)
    ta, tb = texel_view(a), texel_view(b)
    for r0, r1 in work.blocks(out):
        shape = (r1 - r0, width)
        bits = np.add(cell_x[None, :], cell_y[r0:r1, None], out=work.bits_block(0, shape))
        _mix_bits(bits, work.bits_block(1, shape))
        # jitter = (two bytes of bits) · r/127.5 − r, within ±r
        jitter = []
        for k, shift in enumerate((0, 8)):
            byte = np.right_shift(bits, shift, out=work.bits_block(1, shape))
            np.bitwise_and(byte, 255, out=byte)
            value = np.multiply(byte, step_size, out=work.float_block(k, shape), dtype=np.float32)
            jitter.append(np.subtract(value, r, out=value))
        jx, jy = jitter
        # A at uv + (jx / ratio, jy), B at uv + (jy / ratio, −jx)
        u = np.divide(jx, ratio, out=work.float_block(2, shape))
        np.add(u, x[None, :], out=u)
        v = np.add(jy, y[r0:r1, None], out=work.float_block(3, shape))
        flat_a = _flat_index(u, np.subtract(_F1, v, out=v), height, width, work, 0)
        u = np.divide(jy, ratio, out=work.float_block(2, shape))
        np.add(u, x[None, :], out=u)
        v = np.subtract(y[r0:r1, None], jx, out=work.float_block(3, shape))  # y + (−jx)
        flat_b = _flat_index(u, np.subtract(_F1, v, out=v), height, width, work, 1)
        _gather_mix(out[r0:r1], ta, tb, flat_a, flat_b, progress, work)


def _clamp(value: np.float32, low: float, high: float) -> np.float32:
    return min(max(value, _F(low)), _F(high))


_TURN = _F("0.15915494")


def _wave(x: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """ripple.glsl's sine, in place in `x`."""
    np.multiply(x, _TURN, out=x)
    np.floor(x, out=spare)
    np.subtract(x, spare, out=x)
    np.subtract(x, _F05, out=x)
    np.abs(x, out=spare)
    np.multiply(spare, _F(16.0), out=spare)
    np.subtract(_F(8.0), spare, out=spare)
    np.multiply(x, spare, out=x)  # y = t * (8 - 16|t|)
    np.abs(x, out=spare)
    np.multiply(spare, _F(0.225), out=spare)
    np.add(spare, _F(0.775), out=spare)
    np.multiply(x, spare, out=x)
    return np.negative(x, out=x)


def _ripple(out, a, b, progress, params, work) -> None:
    height, width = out.shape[:2]
    ratio = _F(work.ratio)
    x, _, down = work.grid(height, width)
    dx, dy = _centred(work, out.shape, ratio)
    dx2, dy2 = dx * dx, dy * dy
    swell = _F4 * progress * (_F1 - progress)
    strength = _clamp(_F(params["amplitude"]), -1.0, 1.0) * swell
    floor_dist = _F(1e-4)
    frequency = _clamp(_F(params["frequency"]), -1000.0, 1000.0)
    phase = progress * _clamp(_F(params["speed"]), -1000.0, 1000.0)
    centred_x = x - _F05
    ta, tb = texel_view(a), texel_view(b)
    for r0, r1 in work.blocks(out):
        shape = (r1 - r0, width)
        dist = np.add(dx2[None, :], dy2[r0:r1, None], out=work.float_block(3, shape))
        np.sqrt(dist, out=dist)
        arg = np.multiply(dist, frequency, out=work.float_block(0, shape))
        np.subtract(arg, phase, out=arg)
        shift = _wave(arg, work.float_block(1, shape))
        np.multiply(shift, strength, out=shift)
        np.maximum(dist, floor_dist, out=dist)
        np.divide(shift, dist, out=shift)  # push
        # at = uv + (uv − 0.5) · shift; rows as the sampler flips them, 1 − at.y
        u = np.multiply(centred_x[None, :], shift, out=work.float_block(1, shape))
        np.add(u, x[None, :], out=u)
        v = np.multiply(dy[r0:r1, None], shift, out=work.float_block(2, shape))
        np.add(v, _F1 - down[r0:r1, None], out=v)
        np.subtract(_F1, v, out=v)
        flat = _flat_index(u, v, height, width, work)
        _gather_mix(out[r0:r1], ta, tb, flat, flat, progress, work)


def _flat_index(
    u: np.ndarray, v_down: np.ndarray, height: int, width: int, work: Workspace, slot: int = 0
) -> np.ndarray:
    """Index into a raveled plane of the texel at (u, 1 − v) per texel of a block.

    u and v_down (= 1 − v) are consumed; the index lives in index buffer `slot` (0 or
    1), and buffer 2 is scratch.
    """
    np.multiply(u, _F(width), out=u)
    np.floor(u, out=u)
    np.clip(u, 0, width - 1, out=u)
    np.multiply(v_down, _F(height), out=v_down)
    np.floor(v_down, out=v_down)
    np.clip(v_down, 0, height - 1, out=v_down)
    flat = work.index_block(slot, u.shape)
    np.copyto(flat, v_down, casting="unsafe")
    np.multiply(flat, width, out=flat)
    column = work.index_block(2, u.shape)
    np.copyto(column, u, casting="unsafe")
    return np.add(flat, column, out=flat)


def _gather_mix(block, ta, tb, flat_a, flat_b, weight, work: Workspace) -> None:
    """block = mix(a at flat_a, b at flat_b, weight), texels picked by index into each raveled plane."""
    like = texel_view(block)
    sa = np.take(ta.reshape(-1), flat_a, out=work.texel_block(0, like), mode="clip")
    sb = np.take(tb.reshape(-1), flat_b, out=work.texel_block(1, like), mode="clip")
    sa = sa.view(np.uint8).reshape(block.shape)
    sb = sb.view(np.uint8).reshape(block.shape)
    mix_rows(block, sa, sb, weight, work.float_block(4, block.shape), work.float_block(5, block.shape))


_EYE = _F(3.0)


def _cube(out, a, b, progress, params, work) -> None:
    # Which face a column shows, its texel column, height scale and shade depend on x
    # alone: worked out once per column; then per texel, the row and whether it is on
    # the face or in the shadow around it.
    height, width = out.shape[:2]
    ratio = _F(work.ratio)
    p = progress
    half = ratio * _F05
    q = p * (_F(0.78125) + _F(0.21875) * p * p)
    qq = q * q
    c = (_F1 - qq) / (_F1 + qq)
    s = (_F2 * q) / (_F1 + qq)
    back = half * (_F2 * p * (_F1 - p))
    x = (work.grid(height, width)[0] - _F05) * ratio
    with np.errstate(divide="ignore", invalid="ignore"):  # edge-on rays: refused by the sign tests
        reach = _EYE + back + half * (_F1 - c)
        den = _EYE * c + x * s
        across = (x * reach + _EYE * half * s) / den
        shows_from = (den > _F0) & (np.abs(across) <= half)
        reach_next = _EYE + back + half * (_F1 - s)
        den_next = x * c - _EYE * s
        across_next = (_EYE * half * c - x * reach_next) / den_next
        shows_to = ~shows_from & (den_next < _F0) & (np.abs(across_next) <= half)
    # Per column: the face's height scale, texel column and shade.
    scale = np.where(shows_from, (reach - across * s) / _EYE, (reach_next + across_next * c) / _EYE).astype(np.float32)
    u = np.where(shows_from, across / ratio + _F05, across_next / ratio + _F05).astype(np.float32)
    shade = np.where(shows_from, s * u * _F(0.8), c * (_F1 - u) * _F(0.8)).astype(np.float32)
    columns = np.clip(np.floor(u * _F(width)), 0, width - 1)
    columns = np.where(shows_from | shows_to, columns, 0).astype(np.intp)
    on_face = shows_from | shows_to
    y = _F05 - work.grid(height, width)[2]  # uv.y − 0.5 as Mesa folds it
    shadow = _flat_colour(params, "shadow", out)
    shadow_texel = np.rint(shadow * _F255).astype(np.uint8)
    ta, tb, to = texel_view(a), texel_view(b), texel_view(out)
    for r0, r1 in work.blocks(out):
        shape = (r1 - r0, width)
        yv = np.multiply(y[r0:r1, None], scale[None, :], out=work.float_block(0, shape))
        v = np.add(yv, _F05, out=work.float_block(1, shape))
        inside = np.greater_equal(v, _F0, out=work.flag_block(0, shape))
        inside &= np.less_equal(v, _F1, out=work.flag_block(1, shape))
        inside &= on_face[None, :]
        # The sampler's row: 1 − (y·scale + 0.5), which Mesa folds to 0.5 − y·scale.
        row = np.subtract(_F05, yv, out=yv)
        np.multiply(row, _F(height), out=row)
        np.floor(row, out=row)
        np.clip(row, 0, height - 1, out=row)
        flat = work.index_block(0, shape)
        np.copyto(flat, row, casting="unsafe")
        np.multiply(flat, width, out=flat)
        np.add(flat, columns[None, :], out=flat)
        like = to[r0:r1]
        texels = np.take(ta.reshape(-1), flat, out=work.texel_block(0, like), mode="clip")
        from_b = np.take(tb.reshape(-1), flat, out=work.texel_block(1, like), mode="clip")
        np.copyto(texels, from_b, where=shows_to[None, :])
        block = out[r0:r1]
        faces = texels.view(np.uint8).reshape(block.shape)
        mix_rows(
            block,
            faces,
            shadow,
            per_texel(shade, out.ndim),
            work.float_block(4, block.shape),
            work.float_block(5, block.shape),
        )
        np.copyto(
            like, shadow_texel.view(to.dtype).reshape(()), where=np.logical_not(inside, out=work.flag_block(1, shape))
        )


def _lumawipe(out, a, b, progress, params, work) -> None:
    # params["matte"] is the matte at this plane's size (uint8), loaded by the compositor.
    matte = params["matte"]
    invert = _F(params["invert"]) > _F05

    def t_block(r0, r1, into):
        np.multiply(matte[r0:r1], _INV255, out=into)
        if not invert:
            np.subtract(_F1, into, out=into)
        return into

    _sweep(out, a, b, work, t_block, progress, _F(params["softness"]), _IRIS)


TWINS: dict[str, Twin] = {
    "cut": _cut,
    "fade": _fade,
    "fadeblack": _fadeblack,
    "wipeleft": _wipeleft,
    "wiperight": _wiperight,
    "slideleft": _slideleft,
    "slideright": _slideright,
    "wipeup": _wipeup,
    "wipedown": _wipedown,
    "wipediagonal": _wipediagonal,
    "slideup": _slideup,
    "slidedown": _slidedown,
    "coverleft": _coverleft,
    "coverright": _coverright,
    "revealleft": _revealleft,
    "revealright": _revealright,
    "zoomin": _zoomin,
    "zoomout": _zoomout,
    "circleopen": _circleopen,
    "circleclose": _circleclose,
    "clockwipe": _clockwipe,
    "dissolve": _dissolve,
    "pixelize": _pixelize,
    "blurfade": _blurfade,
    "ripple": _ripple,
    "lumawipe": _lumawipe,
    "cube": _cube,
}
