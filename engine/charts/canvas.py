"""Pixels of a chart: the finished image, its static layer and the reveal map.

A `Canvas` accumulates three things over the chart's box:

- ``image``: premultiplied RGBA of the finished chart;
- ``base``: premultiplied RGBA of its static parts only (axes, gridlines, labels);
  a renderer shows it where an animated part has not appeared yet, so a gridline
  behind a bar is still there before the bar grows over it;
- ``reveal``: per pixel, the clock time at which ``image`` replaces ``base``.

A part may also *vanish*: it is in ``base`` only, and goes at its time. A value
label knocks the gridline behind it out this way, when the label appears.

Shapes are drawn opaque at 4× by a `Sketch`, tile by tile, and reduced by averaging
4×4 blocks (a box filter): antialiasing as raster/slides.py does it, also exact
where two shapes of one sketch meet. Text is drawn by FreeType's
antialiasing at 1×. Whatever falls outside the box is cut, and logged: the layout
should never let it happen.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .reveal import RevealFn

__all__ = ["SUPERSAMPLE", "Canvas", "Reveal", "Sketch", "to_straight"]

log = logging.getLogger(__name__)

SUPERSAMPLE = 4
RGB = tuple[int, int, int]
#: None (static), one time, or a time per pixel from pixel centres (see .reveal).
Reveal = float | RevealFn | None
#: Side of the tiles a sketch is drawn in, in output pixels (a 4 MB image at 4×).
_TILE = 256
_ONE = 65535.0  # 1.0 in a canvas buffer
_BAND = 64  # rows converted at once
#: Coverage below this (about 1/255) does not tie a pixel to a shape's reveal time.
_VISIBLE = 0.5 / 255
#: Coverage from which a part hides everything under it (at 8 bits).
_OPAQUE = 254.5 / 255


class _Grid:
    """Canvas coordinates → pixels of one supersampled tile whose top-left is (x0, y0)."""

    def __init__(self, x0: int, y0: int) -> None:
        self.x0, self.y0 = x0, y0

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.x0) * SUPERSAMPLE, (y - self.y0) * SUPERSAMPLE

    def box(self, left: float, top: float, right: float, bottom: float) -> tuple[int, int, int, int]:
        # Pillow boxes include their last pixel: [l, r) × [t, b) at 4× is (l, t, r-1, b-1).
        l, t = self.xy(left, top)
        r, b = self.xy(right, bottom)
        return round(l), round(t), round(r) - 1, round(b) - 1


_Op = Callable[[ImageDraw.ImageDraw, _Grid], None]


class Sketch:
    """Opaque shapes in canvas coordinates, drawn at 4× and reduced tile by tile.

    A sketch only records its shapes; `tiles` draws them over one tile at a time, so
    a chart-sized sketch never needs a chart-sized 4× image. Shapes are opaque, and
    later ones replace earlier ones where they overlap; `rgb` None cuts a hole.
    """

    def __init__(self, left: float, top: float, right: float, bottom: float) -> None:
        self.x0, self.y0 = math.floor(left) - 1, math.floor(top) - 1
        self.x1, self.y1 = math.ceil(right) + 1, math.ceil(bottom) + 1
        self._ops: list[_Op] = []

    def rect(
        self,
        left: float,
        top: float,
        right: float,
        bottom: float,
        rgb: RGB,
        radius: float = 0,
        corners: tuple[bool, bool, bool, bool] | None = None,
    ) -> None:
        """A rectangle; `radius` rounds the `corners` (tl, tr, br, bl; all by default)."""

        def op(draw: ImageDraw.ImageDraw, grid: _Grid) -> None:
            box = grid.box(left, top, right, bottom)
            if box[2] < box[0] or box[3] < box[1]:
                return
            r = min(radius * SUPERSAMPLE, (box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
            if r >= 1:
                draw.rounded_rectangle(box, radius=int(r), fill=_fill(rgb), corners=corners)
            else:
                draw.rectangle(box, fill=_fill(rgb))

        self._ops.append(op)

    def circle(self, cx: float, cy: float, radius: float, rgb: RGB | None) -> None:
        self._ops.append(
            lambda draw, grid: draw.ellipse(
                grid.box(cx - radius, cy - radius, cx + radius, cy + radius), fill=_fill(rgb)
            )
        )

    def polygon(self, points: Sequence[tuple[float, float]], rgb: RGB) -> None:
        self._ops.append(lambda draw, grid: draw.polygon([grid.xy(x, y) for x, y in points], fill=_fill(rgb)))

    def polyline(self, points: Sequence[tuple[float, float]], width: float, rgb: RGB | None) -> None:
        """A line through `points` with round joins and caps."""
        w = max(1, round(width * SUPERSAMPLE))
        if len(points) > 1:
            self._ops.append(
                lambda draw, grid: draw.line(
                    [grid.xy(x, y) for x, y in points], fill=_fill(rgb), width=w, joint="curve"
                )
            )
        for x, y in (points[0], points[-1]):
            self.circle(x, y, width / 2, rgb)

    def sector(self, cx: float, cy: float, radius: float, start: float, end: float, rgb: RGB) -> None:
        """A pie slice between angles in degrees clockwise from 12 o'clock."""

        def op(draw: ImageDraw.ImageDraw, grid: _Grid) -> None:
            box = grid.box(cx - radius, cy - radius, cx + radius, cy + radius)
            if end - start >= 360:
                draw.ellipse(box, fill=_fill(rgb))
            else:
                draw.pieslice(box, start - 90, end - 90, fill=_fill(rgb))

        self._ops.append(op)

    def arc(self, cx: float, cy: float, radius: float, start: float, end: float, width: float, rgb: RGB) -> None:
        """A stroke of `width` along the circle of `radius` (its centre line), clockwise from 12."""
        outer = radius + width / 2
        w = max(1, round(width * SUPERSAMPLE))
        self._ops.append(
            lambda draw, grid: draw.arc(
                grid.box(cx - outer, cy - outer, cx + outer, cy + outer), start - 90, end - 90, fill=_fill(rgb), width=w
            )
        )

    def tiles(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """(left, top, premultiplied float32 RGBA at 1×) of each tile that has ink."""
        s = SUPERSAMPLE
        for top in range(self.y0, self.y1, _TILE):
            for left in range(self.x0, self.x1, _TILE):
                w, h = min(_TILE, self.x1 - left), min(_TILE, self.y1 - top)
                with Image.new("RGBA", (w * s, h * s), (0, 0, 0, 0)) as big:
                    draw, grid = ImageDraw.Draw(big), _Grid(left, top)
                    for op in self._ops:
                        op(draw, grid)
                    if big.getbbox() is None:
                        continue
                    # Pillow's reduce averages straight colour weighted by alpha: premultiply after.
                    with big.reduce(s) as small:
                        layer = np.asarray(small, dtype=np.float32) / 255.0
                layer[..., :3] *= layer[..., 3:4]
                yield left, top, layer


def _fill(rgb: RGB | None) -> tuple[int, int, int, int]:
    return (0, 0, 0, 0) if rgb is None else (*rgb, 255)


class Canvas:
    """The chart's box, being painted: see the module docstring."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        # Premultiplied RGBA stored as 16-bit fractions of 1: far finer than the 8-bit
        # result, at half the memory of float32 (a 4K chart is 8 million pixels).
        self.image = np.zeros((height, width, 4), np.uint16)
        self.base = np.zeros((height, width, 4), np.uint16)
        self.reveal = np.zeros((height, width), np.float32)

    # ── painting ──────────────────────────────────────────────────────────────────

    def paint(
        self,
        x0: int,
        y0: int,
        layer: np.ndarray,
        reveal: Reveal = None,
        opacity: float = 1.0,
        *,
        vanishes: bool = False,
    ) -> None:
        """Composite premultiplied `layer` at (x0, y0), over what is there.

        `reveal` None paints a static part (into the base too); a number or a function
        of pixel centres gives the time at which each covered pixel appears, or (with
        `vanishes`) disappears: such a part is painted into the base only.
        """
        h, w = layer.shape[:2]
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(self.width, x0 + w), min(self.height, y0 + h)
        whole = layer
        layer = layer[max(0, cy0 - y0) : max(0, cy1 - y0), max(0, cx0 - x0) : max(0, cx1 - x0)]
        if layer.shape[:2] != whole.shape[:2]:
            self._warn_if_cut(x0, y0, whole, layer)
        if layer.size == 0:
            return
        if opacity != 1.0:
            layer = layer * opacity
        window = (slice(cy0, cy1), slice(cx0, cx1))
        if reveal is None or vanishes:
            _over(self.base, window, layer)
        if not vanishes:
            _over(self.image, window, layer)
        if reveal is None:
            return
        covered = layer[..., 3] > _VISIBLE
        if callable(reveal):
            xs = np.arange(cx0, cx1, dtype=np.float32)[None, :] + 0.5
            ys = np.arange(cy0, cy1, dtype=np.float32)[:, None] + 0.5
            times = np.broadcast_to(reveal(xs, ys), covered.shape)
        else:
            times = np.full(covered.shape, reveal, np.float32)
        # A pixel mixing several animated parts appears when the last of them has; one an
        # opaque part covers whole shows that part alone, so it appears at that part's time
        # (a bar over a knocked-out gridline must not wait for the knock-out).
        times = np.clip(times, 0.0, 1.0)
        target = self.reveal[window]
        later = np.maximum(target[covered], times[covered])
        if not vanishes:
            later = np.where(layer[..., 3][covered] >= _OPAQUE, times[covered], later)
        target[covered] = later

    def sketch(self, sketch: Sketch, opacity: float = 1.0, reveal: Reveal = None, *, vanishes: bool = False) -> None:
        for x0, y0, layer in sketch.tiles():
            self.paint(x0, y0, layer, reveal, opacity, vanishes=vanishes)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        font: ImageFont.FreeTypeFont,
        rgb: RGB,
        *,
        anchor: str = "ls",
        alpha: float = 1.0,
        reveal: Reveal = None,
        angle: float = 0.0,
    ) -> None:
        """One line of text at (x, y) per Pillow's `anchor`; `angle` turns it
        counter-clockwise (degrees) about the anchor point."""
        if not text:
            return
        at = (round(x), round(y))
        left, top, right, bottom = map(int, font.getbbox(text, anchor=anchor))  # whole pixels from FreeType
        mask = Image.new("L", (right - left + 2, bottom - top + 2), 0)
        ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font, fill=255, anchor=anchor)
        ox, oy = at[0] + left - 1, at[1] + top - 1
        if angle:
            pivot = (1 - left, 1 - top)  # the anchor point, inside the mask
            mask, (ox, oy) = _rotate(mask, pivot, angle, at)
        coverage = np.asarray(mask, dtype=np.float32) / 255.0 * alpha
        layer = np.empty((*coverage.shape, 4), np.float32)
        layer[..., :3] = np.asarray(rgb, np.float32) / 255.0 * coverage[..., None]
        layer[..., 3] = coverage
        self.paint(ox, oy, layer, reveal)

    def _warn_if_cut(self, x0: int, y0: int, whole: np.ndarray, kept: np.ndarray) -> None:
        # Windows carry a margin of empty pixels: only ink that was cut counts.
        lost = float(whole[..., 3].sum() - kept[..., 3].sum())
        if lost > 0.5:
            h, w = whole.shape[:2]
            log.warning(
                "chart: %.0f px of ink cut at the edge of the %d×%d box (a %d×%d part at %d, %d)",
                lost,
                self.width,
                self.height,
                w,
                h,
                x0,
                y0,
            )


def to_straight(premultiplied: np.ndarray) -> np.ndarray:
    """H×W×4 uint8 straight-alpha RGBA from a canvas buffer, a band of rows at a time."""
    out = np.empty(premultiplied.shape, np.uint8)
    for top in range(0, premultiplied.shape[0], _BAND):
        band = premultiplied[top : top + _BAND].astype(np.float32) / _ONE
        alpha = band[..., 3:4]
        rgb = np.divide(band[..., :3], alpha, out=np.zeros_like(band[..., :3]), where=alpha > 0)
        out[top : top + _BAND, ..., :3] = np.clip(np.rint(rgb * 255.0), 0, 255)
        out[top : top + _BAND, ..., 3:] = np.clip(np.rint(alpha * 255.0), 0, 255)
    return out


def _over(buffer: np.ndarray, window: tuple[slice, slice], src: np.ndarray) -> None:
    """Premultiplied source-over of float `src` onto a window of a 16-bit buffer."""
    dst = buffer[window].astype(np.float32) / _ONE
    dst *= 1.0 - src[..., 3:4]
    dst += src
    buffer[window] = np.clip(np.rint(dst * _ONE), 0, _ONE)


def _rotate(
    mask: Image.Image, pivot: tuple[int, int], angle: float, at: tuple[int, int]
) -> tuple[Image.Image, tuple[int, int]]:
    """`mask` turned `angle` degrees counter-clockwise about `pivot`, and where its
    top-left corner lands when the pivot sits at canvas point `at`."""
    w, h = mask.size
    turned = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    # Where the pivot went: rotate it about the mask centre, then shift into the expanded frame.
    rad = math.radians(angle)
    cx, cy = w / 2, h / 2
    dx, dy = pivot[0] - cx, pivot[1] - cy
    px = cx + dx * math.cos(rad) + dy * math.sin(rad) + (turned.width - w) / 2
    py = cy - dx * math.sin(rad) + dy * math.cos(rad) + (turned.height - h) / 2
    return turned, (round(at[0] - px), round(at[1] - py))
