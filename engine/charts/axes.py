"""Parts of the charts with a value axis: header, ticks, gridlines, category and value labels.

`columns` (vertical bars, lines, areas) and `hbars` lay these out along their own
axes; everything here is static (revealed at 0) except the value labels, which appear
when the bar or point they label has, and knock the gridlines behind them out then.

Value labels print one format per chart, chosen from the data and the unit alone
(`value_texts`), so a chart says "1,850" in 16:9, 1:1 and 9:16 alike; only their size
follows the box, and neighbours keep `LABEL_GAP` of it between them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageFont

from .canvas import Canvas, Reveal, Sketch
from .drawn import SteppedLabels, as_set, cuts
from .format import format_value
from .model import Chart
from .style import (
    AXIS_ALPHA,
    CATEGORY,
    GAP,
    GRID_ALPHA,
    KNOCKOUT,
    LABEL_ALPHA,
    LABEL_GAP,
    MUTED_ALPHA,
    PAD,
    TICK,
    VALUE,
    Legend,
    Rect,
    Style,
    legend,
)
from .text import Label, ellipsize, fit_labels, measure, sizes
from .ticks import Ticks

__all__ = [
    "Categories",
    "Header",
    "Placed",
    "categories",
    "font_height",
    "gridline",
    "header",
    "inner_box",
    "place_value",
    "tick_labels",
    "tick_target",
    "value_extent",
    "value_labels",
    "value_texts",
]

RGB = tuple[int, int, int]
_SIN = math.sin(math.radians(45))


def inner_box(canvas: Canvas, style: Style) -> Rect:
    pad = round(style.px(PAD, 2))
    return Rect(pad, pad, canvas.width - pad, canvas.height - pad)


# ── header: unit caption and legend ───────────────────────────────────────────────


@dataclass(frozen=True)
class Header:
    caption: Label | None
    legend: Legend | None
    gap: float
    unit: str = ""  # the caption's text before fitting

    @property
    def height(self) -> float:
        tallest = max(self.caption.height if self.caption else 0, self.legend.height if self.legend else 0)
        return tallest + self.gap if tallest else 0

    @property
    def names(self) -> tuple[str, ...]:
        return self.legend.names if self.legend else ()

    @property
    def cut(self) -> tuple[tuple[str, str], ...]:
        unit = cuts([self.unit], [self.caption]) if self.caption else ()
        return unit + (self.legend.cut if self.legend else ())

    def draw(self, canvas: Canvas, box: Rect, style: Style) -> None:
        if self.caption:
            self.caption.draw(canvas, box.left, box.top, style.text, align="left", alpha=MUTED_ALPHA)
        if self.legend:
            self.legend.draw(canvas, box.right, box.top, style.text)


def header(style: Style, box: Rect, names: Sequence[str | None], colours: Sequence[RGB]) -> Header:
    """The unit as a caption (unless the ticks carry it) and a legend for several series."""
    gap = style.px(GAP)
    caption = None
    unit = style.chart.unit or ""
    if unit and not style.unit_on_ticks:
        font = style.regular(style.size(TICK))
        caption = measure(ellipsize(font, unit, int(box.width * 0.3)), font)
    chart_legend = None
    if len(names) > 1:
        room = box.width - (caption.width + 2 * gap if caption else 0)
        chart_legend = legend(style, [name or "" for name in names], colours, room)
    return Header(caption, chart_legend, gap, unit)


# ── the value axis ────────────────────────────────────────────────────────────────


def value_extent(chart: Chart) -> tuple[float, float]:
    """Lowest and highest value the axis must show (stacks: their sums)."""
    series = chart.data_series
    if chart.type == "stacked_bar":
        columns = list(zip(*(s.values for s in series)))
        highs = [sum(v for v in column if v > 0) for column in columns]
        lows = [sum(v for v in column if v < 0) for column in columns]
        return min(lows), max(highs)
    values = [v for s in series for v in s.values]
    return min(values), max(values)


def tick_target(length: float, spacing: float) -> int:
    """How many intervals fit `length` with ticks about `spacing` apart (2 to 6)."""
    return max(2, min(6, round(length / max(1.0, spacing))))


def tick_labels(style: Style, ticks: Ticks, max_width: float) -> list[Label]:
    """One label per tick; compact ("12.5k") when full numbers would be too wide."""
    font = style.regular(style.size(TICK))
    unit = style.chart.unit if style.unit_on_ticks else None
    for compact in (True,) if _millions(ticks.values) else (False, True):
        texts = [format_value(t, unit, ticks.decimals, compact=compact, language=style.language) for t in ticks.values]
        labels = [measure(text, font) for text in texts]
        if max(label.width for label in labels) <= max_width:
            break
    return labels


def _millions(values: Sequence[float]) -> bool:
    return max(abs(v) for v in values) >= 1e6


def gridline(
    canvas: Canvas,
    style: Style,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    *,
    axis: bool = False,
    knockouts: Sequence[Placed] = (),
) -> None:
    """A hairline from (x0, y0) to (x1, y1), horizontal or vertical, on whole pixels.

    Where it passes behind one of `knockouts` (labels), that stretch vanishes when
    the label appears, or is never drawn for a static label: no line strikes
    through a label.
    """
    thickness = max(1, round(style.u * 0.003))
    alpha = AXIS_ALPHA if axis else GRID_ALPHA
    horizontal = y0 == y1
    if horizontal:
        top = round(y0 - thickness / 2)
        across, start, end = (top, top + thickness), x0, x1
    else:
        left = round(x0 - thickness / 2)
        across, start, end = (left, left + thickness), y0, y1
    holes = []
    for placed in knockouts:
        l, t, r, b = placed.knockout
        a, z, near, far = (l, r, t, b) if horizontal else (t, b, l, r)
        if near < across[1] and far > across[0] and a < end and z > start:
            holes.append((max(start, math.floor(a)), min(end, math.ceil(z)), placed.reveal))
    holes.sort(key=lambda hole: hole[0])
    pieces, at = [], start  # (from, to, reveal, whether it is a hole)
    for a, z, reveal in holes:
        a = max(a, at)  # knock-outs never overlap (labels keep a gap); if they did, the first wins
        if z <= a:
            continue
        pieces += [(at, a, None, False), (a, z, reveal, True)]
        at = z
    pieces.append((at, end, None, False))
    for a, z, reveal, hole in pieces:
        if z <= a or (hole and reveal is None):  # a static label's hole: nothing to draw
            continue
        box: tuple[float, float, float, float] = (
            (a, across[0], z, across[1]) if horizontal else (across[0], a, across[1], z)
        )
        sketch = Sketch(*box)
        sketch.rect(*box, style.text)
        canvas.sketch(sketch, alpha, reveal=reveal, vanishes=reveal is not None)


# ── category labels ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Categories(SteppedLabels):
    """Labels under slots: flat (one or two lines), or turned when crowded.

    A turned label ends at its slot's centre and runs down to the left at 45°, or
    straight down (90°) where 45° would cut labels at the box's left edge; when even
    turned labels would touch, only every `step`-th is shown.
    """

    labels: tuple[Label, ...]
    angle: float
    step: int
    height: float
    texts: tuple[str, ...] = ()  # before fitting

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(as_set(label) for label in self.labels[:: self.step])

    def draw(self, canvas: Canvas, centres: Sequence[float], top: float, style: Style) -> None:
        for index in range(0, len(self.labels), self.step):
            label, x = self.labels[index], centres[index]
            if not self.angle:
                label.draw(canvas, x, top, style.text, alpha=LABEL_ALPHA)
                continue
            # The text's middle line ends at the anchor; lower it so its top corner is at `top`.
            drop = label.height / 2 * math.cos(math.radians(self.angle))
            canvas.text(
                x, top + drop, label.lines[0], label.font, style.text, anchor="rm", alpha=LABEL_ALPHA, angle=self.angle
            )


def categories(style: Style, texts: Sequence[str], slot: float, box: Rect, first_centre: float) -> Categories:
    """Fit category labels to slots `slot` wide; turn them when they cannot fit flat."""
    largest, floor = style.size(CATEGORY[0]), style.size(CATEGORY[1])
    flat = fit_labels(texts, style.fonts.regular, int(slot * 0.94) - 1, largest, floor)
    if flat is not None:
        return Categories(tuple(flat), 0.0, 1, max(label.height for label in flat), tuple(texts))
    font = style.regular(max(floor, round(largest * 0.85)))
    height = font_height(font)
    budget = box.height * 0.26  # the most height turned labels may take
    angle = 45.0 if _fit_at_45(font, texts, slot, box, first_centre, budget) else 90.0
    sin, cos = math.sin(math.radians(angle)), math.cos(math.radians(angle))
    longest = (budget - height * cos) / sin
    labels = [measure(ellipsize(font, text, max(1, int(longest))), font) for text in texts]
    step = max(1, math.ceil(height * 1.15 / (slot * sin)))  # parallel labels lie slot × sin apart
    extent = max(label.width * sin + height * cos for label in labels[::step])
    return Categories(tuple(labels), angle, step, extent, tuple(texts))


def _fit_at_45(
    font: ImageFont.FreeTypeFont, texts: Sequence[str], slot: float, box: Rect, first_centre: float, budget: float
) -> bool:
    """Whether every label fits uncut at 45°: within the height budget, and (reaching
    left and down from its slot's centre) within the box's left edge."""
    height = font_height(font)
    for index, text in enumerate(texts):
        room = min((first_centre + index * slot - box.left) / _SIN - height / 2, budget / _SIN - height)
        if measure(text, font).width > room:
            return False
    return True


# ── value labels ──────────────────────────────────────────────────────────────────


def value_texts(style: Style, values: Sequence[float]) -> list[str]:
    """The value labels' words, the same in every box: the unit only where the ticks
    carry it too (a longer one is the chart's caption), compact from a million up
    ("$3.3T" reads, a row of thirteen digits does not)."""
    unit = style.unit_on_ticks
    compact = bool(values) and _millions(values)
    return [style.value_text(v, unit=unit, compact=compact) for v in values]


def value_labels(
    style: Style, values: Sequence[float], width: float, *, height: float | None = None, default: bool = True
) -> list[Label] | None:
    """Bold labels for `values` at the largest size at which each, with the gap
    neighbours keep (`LABEL_GAP` × its size), fits in `width` (and `height`): the
    pitch from one label to the next. None where none fits (not shown).

    ``show_values`` true shows them at the smallest size even when they do not fit;
    absent, `default` says whether they are wanted where they fit.
    """
    wanted = style.chart.show_values
    if wanted is False or (wanted is None and not default) or not values:
        return None
    texts = value_texts(style, values)
    largest, floor = style.size(VALUE[0]), style.size(VALUE[1])
    for size in sizes(largest, floor):
        font = style.bold(size)
        gap = LABEL_GAP * size
        if height is not None and font_height(font) + gap > height:
            continue
        labels = [measure(text, font) for text in texts]
        if max(label.width for label in labels) + gap <= width:
            return labels
    return labels if wanted else None


@dataclass(frozen=True)
class Placed:
    """A label placed: the top-left corner of its box, and when it appears (None: from
    the start)."""

    label: Label
    left: float
    top: float
    reveal: Reveal

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.left, self.top, self.left + self.label.width, self.top + self.label.height

    @property
    def knockout(self) -> tuple[float, float, float, float]:
        """What no gridline may cross: the box, with a margin left and right."""
        left, top, right, bottom = self.box
        margin = KNOCKOUT * self.label.size
        return left - margin, top, right + margin, bottom

    def draw(self, canvas: Canvas, style: Style) -> None:
        self.label.draw(canvas, self.left, self.top, style.text, align="left", reveal=self.reveal)


def place_value(label: Label, x: float, y: float, anchor: str, reveal: Reveal) -> Placed:
    """A value label whose `anchor` point ("mb" above, "mt" below, "lm" right of, "rm"
    left of) sits at (x, y)."""
    w, h = label.width, label.height
    left = {"mb": x - w / 2, "mt": x - w / 2, "lm": x, "rm": x - w}[anchor]
    top = {"mb": y - h, "mt": y, "lm": y - h / 2, "rm": y - h / 2}[anchor]
    return Placed(label, left, top, reveal)


def font_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent
