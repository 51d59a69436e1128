"""Horizontal bars: categories down the side, values along the bottom.

    landscape / square                 portrait (labels get the full width)
    ┌ caption ·········· ■ legend ┐    ┌ caption ···· ■ legend ┐
    │   Breakfast ▇▇▇▇▇▇ 540 kcal │    │ Breakfast             │
    │       Lunch ▇▇▇▇▇▇▇▇▇ 780   │    │ ▇▇▇▇▇▇▇▇ 540 kcal     │
    │             0   250   500   │    │ 0      250      500   │
    └─────────────────────────────┘    └───────────────────────┘

Reveal: each bar grows from the zero line (left to right, negatives right to left),
top to bottom with the chart's stagger; its value label appears when it is full.
Gridlines stop short of the labels (a value label's gap opens as it appears). The
label column beside the bars widens, up to 42 % of the box, before a label is cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from . import axes
from .axes import Header, Placed, gridline, place_value
from .canvas import Canvas, Sketch
from .drawn import Drawn, SteppedLabels, as_set
from .reveal import RevealFn, grow, windows
from .style import CATEGORY, GAP, LABEL_ALPHA, MUTED_ALPHA, TICK, Rect, Style
from .text import Label, ellipsize, fit_labels, measure, sizes
from .ticks import Ticks, nice_ticks

__all__ = ["draw_hbars", "names_lost"]

RGB = tuple[int, int, int]

_GROUP = 0.72  # share of a row's bar space the bars take
_GROUP_GAP = 0.12  # between the bars of one row, as a share of a bar
_MAX_BAR = 0.1  # no bar thicker than this share of u
_PORTRAIT = 1.15  # height / width beyond which labels go above their bars
#: Shares of the box's width the label column beside the bars may take: the first
#: that fits every label whole (one line or two), else the last, cutting.
_NAME_COLUMN = (0.3, 0.36, 0.42)


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


@dataclass(frozen=True)
class _Names(SteppedLabels):
    """Category labels, above their bars or in a column left of the plot; when rows
    are too thin for every label, only every `step`-th is shown."""

    labels: list[Label]
    above: bool
    step: int
    plot_left: float
    texts: tuple[str, ...] = ()  # before fitting
    indent: float = 0.0  # of labels above their bars, clear of the axis at the plot's left


@dataclass(frozen=True)
class _Frame:
    """Where everything goes before the values are known: box, header, rows, names."""

    box: Rect
    head: Header
    top: float
    bottom: float
    names: _Names
    rows: _Rows
    label_h: float


def _frame(canvas: Canvas, style: Style, colours: Sequence[RGB]) -> _Frame:
    chart = style.chart
    n = len(style.categories)
    box = axes.inner_box(canvas, style)
    head = axes.header(style, box, [s.name for s in chart.data_series], colours)
    gap = style.px(GAP)
    tick_h = axes.font_height(style.regular(style.size(TICK)))
    portrait = canvas.height > canvas.width * _PORTRAIT
    top, bottom = box.top + head.height, box.bottom - tick_h - gap * 0.5
    row = (bottom - top) / n
    names = _category_labels(style, box, row, portrait)
    label_h = names.labels[0].height + gap * 0.3 if names.above else 0.0
    return _Frame(box, head, top, bottom, names, _Rows(top, row, row - label_h), label_h)


def names_lost(canvas: Canvas, style: Style) -> int:
    """How many category labels horizontal bars in this box would cut or leave out."""
    return _frame(canvas, style, [(0, 0, 0)] * len(style.chart.data_series)).names.lost


def draw_hbars(canvas: Canvas, style: Style) -> Drawn:
    chart = style.chart
    series = chart.data_series
    n, k = len(style.categories), len(series)
    colours = style.colours(k, [s.color for s in series])
    frame = _frame(canvas, style, colours)
    box, head, top, bottom, names, rows = frame.box, frame.head, frame.top, frame.bottom, frame.names, frame.rows
    gap = style.px(GAP)

    shown = range(0, n, names.step)
    name_at = {}
    if names.above:  # names over the bars, inside the plot: gridlines stop short of them too
        left = box.left + names.indent
        name_at = {i: Placed(names.labels[i], left, rows.bar_band(i)[0] - frame.label_h, None) for i in shown}
    axis, tick_labels, shapes, placed = _plot(style, frame, colours, list(name_at.values()))
    grid_knockouts = [*placed, *name_at.values()]

    for value, label in zip(axis.ticks.values, tick_labels):
        x = axis.x(value)
        gridline(canvas, style, x, top, x, bottom, knockouts=grid_knockouts)
        half = label.width / 2
        x = min(max(x, box.left + half), box.right - half)
        canvas.text(x, bottom + gap * 0.5, label.lines[0], label.font, style.text, anchor="mt", alpha=MUTED_ALPHA)
    for sketch, reveal in shapes:
        canvas.sketch(sketch, reveal=reveal)
    zero = axis.x(0.0)
    gridline(canvas, style, zero, top, zero, bottom, axis=True, knockouts=placed)
    for value_label in placed:
        value_label.draw(canvas, style)
    for i in shown:
        name, (band_top, band_bottom) = names.labels[i], rows.bar_band(i)
        if names.above:
            name.draw(canvas, name_at[i].left, name_at[i].top, style.text, align="left", alpha=LABEL_ALPHA)
        else:
            y = (band_top + band_bottom - name.height) / 2
            name.draw(canvas, names.plot_left - gap, y, style.text, align="right", alpha=LABEL_ALPHA)
    head.draw(canvas, box, style)
    return Drawn(
        "hbar",
        values=tuple(as_set(p.label) for p in placed),
        value_size=placed[0].label.size if placed else 0,
        categories=tuple(as_set(label) for label in names.labels[:: names.step]),
        legend=head.names,
        cut=names.cut + head.cut,
    )


def _plot(
    style: Style, frame: _Frame, colours: Sequence[RGB], names: Sequence[Placed]
) -> tuple[_Axis, list[Label], list[tuple[Sketch, RevealFn]], list[Placed]]:
    """The value axis, the bars and their value labels.

    A label sits within its bar's band, clear of its neighbours; under names set over
    the bars, it may reach into their lines where it meets none of them.
    """
    chart, rows, box = style.chart, frame.rows, frame.box
    n, k = len(style.categories), len(chart.data_series)
    values = [s.values[i] for i in range(n) for s in chart.data_series]
    pitch = rows.row if k == 1 else _bar_geometry(style, rows, k)[1]
    width = (box.right - frame.names.plot_left) * 0.3
    band = min(pitch, rows.bars / k)
    # Over a taller band, the largest size that meets no name (sizes step by about 8 %).
    taller = [pitch * share for share in (1.0, 0.9, 0.8, 0.7, 0.6) if pitch * share > band] if names and k == 1 else []
    for height in [*taller, band]:
        labels = axes.value_labels(style, values, width, height=height)
        if labels is None:
            continue
        laid = _lay(style, frame, colours, values, labels)
        if height == band or not any(_overlap(p.knockout, name.knockout) for p in laid[3] for name in names):
            return laid  # (within its band a label cannot meet a name)
    return _lay(style, frame, colours, values, None)


def _lay(
    style: Style, frame: _Frame, colours: Sequence[RGB], values: Sequence[float], labels: list[Label] | None
) -> tuple[_Axis, list[Label], list[tuple[Sketch, RevealFn]], list[Placed]]:
    gap = style.px(GAP)
    # Room for the value labels beyond the longest bars on either side.
    left = frame.names.plot_left + _label_room(labels, values, gap, negative=True)
    right = frame.box.right - _label_room(labels, values, gap, negative=False)
    axis, tick_labels = _value_axis(style, left, right, values)
    shapes, placed = _bars(style, frame.rows, axis, colours, labels)
    return axis, tick_labels, shapes, placed


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _category_labels(style: Style, box: Rect, row: float, portrait: bool) -> _Names:
    """Above the bars in portrait (one line, the full width) while rows have room for
    a label and a bar; else beside them, each at most a row tall (two lines if it fits),
    in a column as narrow as lets every label read whole."""
    texts = tuple(style.categories)
    largest, floor = style.size(CATEGORY[0]), style.size(CATEGORY[1])
    gap = style.px(GAP)
    if portrait:  # a label over each bar, at a size that leaves the bar as much room again
        size = next((s for s in sizes(largest, floor) if axes.font_height(style.regular(s)) * 1.9 <= row), None)
        if size is not None:
            indent = gap * 0.5
            width = int(box.width - indent)
            above = fit_labels(texts, style.fonts.regular, width, size, floor, wrap=False) or _cut(
                style, texts, floor, width
            )
            if above[0].height * 1.9 <= row:
                return _Names(above, True, 1, box.left, texts, indent)
    size = next((s for s in sizes(largest, floor) if axes.font_height(style.regular(s)) <= row), floor)
    two_lines = axes.font_height(style.regular(size)) * 2.1 <= row
    beside = None
    for share in _NAME_COLUMN:
        width = int(box.width * share)
        beside = fit_labels(texts, style.fonts.regular, width, size, floor, wrap=two_lines)
        if beside is not None:
            break
    if beside is None:
        beside = _cut(style, texts, floor, width)
    step = max(1, math.ceil(max(label.height for label in beside) / row - 0.01))
    shown = beside[::step]
    return _Names(beside, False, step, box.left + max(label.width for label in shown) + gap, texts)


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


def _bar_geometry(style: Style, rows: _Rows, k: int) -> tuple[float, float]:
    """Thickness of one bar and the step between the bars of a row."""
    thickness = min(rows.bars * _GROUP / (k + (k - 1) * _GROUP_GAP), style.u * _MAX_BAR)
    return thickness, thickness * (1 + _GROUP_GAP)


def _bars(
    style: Style, rows: _Rows, axis: _Axis, colours: Sequence[RGB], labels: list[Label] | None
) -> tuple[list[tuple[Sketch, RevealFn]], list[Placed]]:
    series = style.chart.data_series
    n, k = len(style.categories), len(series)
    thickness, step = _bar_geometry(style, rows, k)
    radius = min(thickness * 0.2, style.u * 0.012)
    slots = windows(n * k, style.chart.stagger)
    base = axis.x(0.0)
    gap = style.px(GAP) * 0.5
    shapes, placed = [], []
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
                shapes.append((sketch, grow(style.timing, window, base, end, vertical=False)))
            if labels:
                anchor, x = ("rm", end - gap) if value < 0 else ("lm", end + gap)
                placed.append(place_value(labels[item], x, top + thickness / 2, anchor, window[1]))
    return shapes, placed
