"""Horizontal bars: categories down the side, values along the bottom.

    landscape / square                 portrait (labels get the full width)
    ┌ caption ·········· ■ legend ┐    ┌ caption ···· ■ legend ┐
    │   Breakfast ▇▇▇▇▇▇ 540 kcal │    │ Breakfast             │
    │       Lunch ▇▇▇▇▇▇▇▇▇ 780   │    │ ▇▇▇▇▇▇▇▇ 540 kcal     │
    │             0   250   500   │    │ 0      250      500   │
    └─────────────────────────────┘    └───────────────────────┘

Reveal: each bar grows from the zero line (left to right, negatives right to left),
top to bottom with the chart's stagger; its value label appears when it is full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from . import axes
from .axes import draw_value, gridline
from .canvas import Canvas, Sketch
from .reveal import grow, windows
from .style import CATEGORY, GAP, LABEL_ALPHA, MUTED_ALPHA, TICK, Rect, Style
from .text import Label, ellipsize, fit_labels, measure, sizes
from .ticks import Ticks, nice_ticks

__all__ = ["draw_hbars"]

RGB = tuple[int, int, int]

_GROUP = 0.72  # share of a row's bar space the bars take
_GROUP_GAP = 0.12  # between the bars of one row, as a share of a bar
_MAX_BAR = 0.1  # no bar thicker than this share of u
_PORTRAIT = 1.15  # height / width beyond which labels go above their bars


@dataclass(frozen=True)
class _Rows:
    """Row geometry: rows from `top`, each `row` tall; its bars in the last `bars` px."""

    top: float
    row: float
    bars: float

    def bar_band(self, index: int) -> tuple[float, float]:
        bottom = self.top + (index + 1) * self.row
        return bottom - self.bars, bottom


@dataclass(frozen=True)
class _Axis:
    left: float
    right: float
    ticks: Ticks

    def x(self, value: float) -> float:
        lo, hi = self.ticks.lo, self.ticks.hi
        return self.left + (value - lo) / (hi - lo) * (self.right - self.left)


def draw_hbars(canvas: Canvas, style: Style) -> None:
    chart = style.chart
    series = chart.data_series
    n, k = len(chart.labels), len(series)
    colours = style.colours(k, [s.color for s in series])
    box = axes.inner_box(canvas, style)
    head = axes.header(style, box, [s.name for s in series], colours)
    gap = style.px(GAP)
    tick_h = axes.font_height(style.regular(style.size(TICK)))
    portrait = canvas.height > canvas.width * _PORTRAIT

    top, bottom = box.top + head.height, box.bottom - tick_h - gap * 0.5
    row = (bottom - top) / n
    names = _category_labels(style, box, row, portrait)
    label_h = names.labels[0].height + gap * 0.3 if names.above else 0.0
    rows = _Rows(top, row, row - label_h)

    values = [s.values[i] for i in range(n) for s in series]
    labels = axes.value_labels(style, values, (box.right - names.plot_left) * 0.3, max_height=rows.bars / k)
    # Room for the value labels beyond the longest bars on either side.
    left = names.plot_left + _label_room(labels, values, gap, negative=True)
    right = box.right - _label_room(labels, values, gap, negative=False)
    axis, tick_labels = _value_axis(style, left, right, values)

    for value, label in zip(axis.ticks.values, tick_labels):
        x = axis.x(value)
        gridline(canvas, style, x, top, x, bottom)
        half = label.width / 2
        x = min(max(x, box.left + half), box.right - half)
        canvas.text(x, bottom + gap * 0.5, label.lines[0], label.font, style.text, anchor="mt", alpha=MUTED_ALPHA)
    _bars(canvas, style, rows, axis, colours, labels)
    zero = axis.x(0.0)
    gridline(canvas, style, zero, top, zero, bottom, axis=True)
    for i in range(0, n, names.step):
        name, (band_top, band_bottom) = names.labels[i], rows.bar_band(i)
        if names.above:
            name.draw(canvas, box.left, band_top - label_h, style.text, align="left", alpha=LABEL_ALPHA)
        else:
            y = (band_top + band_bottom - name.height) / 2
            name.draw(canvas, names.plot_left - gap, y, style.text, align="right", alpha=LABEL_ALPHA)
    head.draw(canvas, box, style)


@dataclass(frozen=True)
class _Names:
    """Category labels, above their bars or in a column left of the plot; when rows
    are too thin for every label, only every `step`-th is shown."""

    labels: list[Label]
    above: bool
    step: int
    plot_left: float


def _category_labels(style: Style, box: Rect, row: float, portrait: bool) -> _Names:
    """Above the bars in portrait (one line, the full width) while rows have room for
    a label and a bar; else beside them, each at most a row tall (two lines if it fits)."""
    texts = style.chart.labels
    largest, floor = style.size(CATEGORY[0]), style.size(CATEGORY[1])
    gap = style.px(GAP)
    if portrait:
        width = int(box.width)
        above = fit_labels(texts, style.fonts.regular, width, largest, floor, wrap=False) or _cut(
            style, texts, floor, width
        )
        if above[0].height * 1.9 <= row:
            return _Names(above, True, 1, box.left)
    size = next((s for s in sizes(largest, floor) if axes.font_height(style.regular(s)) <= row), floor)
    width = int(box.width * 0.3)
    two_lines = axes.font_height(style.regular(size)) * 2.1 <= row
    beside = fit_labels(texts, style.fonts.regular, width, size, floor, wrap=two_lines) or _cut(
        style, texts, floor, width
    )
    step = max(1, math.ceil(max(label.height for label in beside) / row - 0.01))
    shown = beside[::step]
    return _Names(beside, False, step, box.left + max(label.width for label in shown) + gap)


def _label_room(labels: list[Label] | None, values: Sequence[float], gap: float, *, negative: bool) -> float:
    widths = [label.width for label, value in zip(labels or [], values) if (value < 0) == negative]
    return max(widths) + gap * 0.5 if widths else 0.0


def _cut(style: Style, texts: Sequence[str], size: int, width: int) -> list[Label]:
    font = style.regular(size)
    return [measure(ellipsize(font, text, width), font) for text in texts]


def _value_axis(style: Style, left: float, right: float, values: Sequence[float]) -> tuple[_Axis, list[Label]]:
    """Ticks along the bottom: as many as fit without their labels touching."""
    lo, hi = min(values), max(values)
    for target in range(5, 1, -1):
        ticks = nice_ticks(lo, hi, target, include_zero=True)
        labels = axes.tick_labels(style, ticks, (right - left) / 2)
        spacing = (right - left) / max(1, len(ticks.values) - 1)
        if max(label.width for label in labels) * 1.4 <= spacing:
            break
    return _Axis(left, right, ticks), labels


def _bars(canvas: Canvas, style: Style, rows: _Rows, axis: _Axis, colours: Sequence[RGB],
          labels: list[Label] | None) -> None:
    series = style.chart.data_series
    n, k = len(style.chart.labels), len(series)
    thickness = min(rows.bars * _GROUP / (k + (k - 1) * _GROUP_GAP), style.u * _MAX_BAR)
    step = thickness * (1 + _GROUP_GAP)
    radius = min(thickness * 0.2, style.u * 0.012)
    slots = windows(n * k, style.chart.stagger)
    base = axis.x(0.0)
    gap = style.px(GAP) * 0.5
    for i in range(n):
        band_top, band_bottom = rows.bar_band(i)
        first = (band_top + band_bottom) / 2 - (thickness + step * (k - 1)) / 2
        for j, s in enumerate(series):
            item, value, top = i * k + j, s.values[i], first + j * step
            end = axis.x(value)
            window = slots[item]
            if end != base:
                right = end > base
                sketch = Sketch(min(base, end), top, max(base, end), top + thickness)
                corners = (False, True, True, False) if right else (True, False, False, True)
                sketch.rect(min(base, end), top, max(base, end), top + thickness, colours[j], radius, corners)
                canvas.sketch(sketch, reveal=grow(style.timing, window, base, end, vertical=False))
            if labels:
                anchor, x = ("rm", end - gap) if value < 0 else ("lm", end + gap)
                draw_value(canvas, labels[item], x, top + thickness / 2, anchor, style, window[1])
