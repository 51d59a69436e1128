"""Charts over categories along x with a value axis up the left: bar, stacked_bar, line, area.

    ┌ caption ·········· ■ legend ■ ┐
    │ tick ─────────────────────────│  value labels above their bars or points
    │ tick ──── ▇▇ ──── ▇▇ ──── ▇▇ ──│
    │        category  category     │  one or two lines, or turned 45° when crowded
    └───────────────────────────────┘

Value labels knock the gridlines behind them out as they appear. A bar chart whose
category labels would be turned and cut is drawn as horizontal bars (`hbars`)
where they read whole there (or less cut).

Reveal: bars grow from the baseline (negatives downwards), staggered bar by bar;
a stack grows from the baseline as a whole, so its segments appear in order; lines
draw left to right, series staggered; areas rise from the baseline.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import axes, hbars
from .axes import Categories, Placed, gridline, place_value
from .canvas import Canvas, Reveal, Sketch
from .drawn import Drawn, as_set
from .reveal import along, grow, rise, stack, windows
from .style import GAP, LABEL_GAP, MUTED_ALPHA, TICK, Rect, Style
from .text import Label
from .ticks import Ticks, nice_ticks

__all__ = ["draw_columns"]

RGB = tuple[int, int, int]

_GROUP = 0.72  # share of a slot the bars of one category take
_GROUP_GAP = 0.08  # between the bars of one group, as a share of a bar
_MAX_BAR = 0.16  # no bar wider than this share of the plot
_AREA_ALPHA = (0.34, 0.22)  # one series, several


@dataclass(frozen=True)
class _Plot:
    """The plot rectangle and its value → y mapping."""

    rect: Rect
    ticks: Ticks
    n: int
    room: Rect  # where value labels may go: the plot and the space kept around it

    @property
    def slot(self) -> float:
        return self.rect.width / self.n

    def centre(self, index: int) -> float:
        return self.rect.left + (index + 0.5) * self.slot

    def y(self, value: float) -> float:
        lo, hi = self.ticks.lo, self.ticks.hi
        return self.rect.bottom - (value - lo) / (hi - lo) * self.rect.height

    @property
    def baseline(self) -> float:
        return self.y(min(max(0.0, self.ticks.lo), self.ticks.hi))


@dataclass(frozen=True)
class _Shape:
    """An animated part, drawn after the gridlines and before the labels."""

    sketch: Sketch
    reveal: Reveal
    opacity: float = 1.0


def draw_columns(canvas: Canvas, style: Style) -> Drawn:
    chart = style.chart
    series = chart.data_series
    colours = style.colours(len(series), [s.color for s in series])
    box = axes.inner_box(canvas, style)
    head = axes.header(style, box, [s.name for s in series], colours)
    plot, cats, labels, tick_labels = _layout(style, box, head.height)
    if chart.type == "bar" and cats.lost and hbars.names_lost(canvas, style) < cats.lost:
        return hbars.draw_hbars(canvas, style)  # labels that would be turned and cut read whole sideways

    plan = {"bar": _bars, "stacked_bar": _stacks, "line": _lines, "area": _areas}[chart.type]
    shapes, placed = plan(style, plot, colours, labels)
    for value, label in zip(plot.ticks.values, tick_labels):
        y = plot.y(value)
        gridline(canvas, style, plot.rect.left, y, plot.rect.right, y, knockouts=placed)
        canvas.text(
            plot.rect.left - style.px(GAP), y, label.lines[0], label.font, style.text, anchor="rm", alpha=MUTED_ALPHA
        )
    for shape in shapes:
        canvas.sketch(shape.sketch, shape.opacity, reveal=shape.reveal)
    if plot.ticks.lo <= 0 <= plot.ticks.hi:
        base = plot.baseline
        gridline(canvas, style, plot.rect.left, base, plot.rect.right, base, axis=True, knockouts=placed)
    for value_label in placed:
        value_label.draw(canvas, style)
    centres = [plot.centre(i) for i in range(plot.n)]
    cats.draw(canvas, centres, box.bottom - cats.height, style)
    head.draw(canvas, box, style)
    return Drawn(
        chart.type,
        values=tuple(as_set(p.label) for p in placed),
        value_size=placed[0].label.size if placed else 0,
        categories=cats.shown,
        legend=head.names,
        cut=cats.cut + head.cut,
    )


# ── layout ────────────────────────────────────────────────────────────────────────


def _layout(style: Style, box: Rect, header_h: float) -> tuple[_Plot, Categories, list[Label] | None, list[Label]]:
    """Plot rectangle, category labels, value labels (or None) and tick labels.

    The tick count depends on the plot's height, which depends on the category labels'
    height, which depends on the slot width left beside the tick labels: so ticks are
    chosen for a first guess at the height and kept.
    """
    chart = style.chart
    n = len(style.categories)
    gap = style.px(GAP)
    tick_h = axes.font_height(style.regular(style.size(TICK)))
    lo, hi = axes.value_extent(chart)
    include_zero = chart.type != "line" or _zero_is_near(lo, hi)
    guess = box.height - header_h - 4 * tick_h
    ticks = nice_ticks(lo, hi, axes.tick_target(guess, 3.2 * tick_h), include_zero=include_zero)
    tick_labels = axes.tick_labels(style, ticks, box.width * 0.2)
    left = box.left + max(label.width for label in tick_labels) + gap
    slot = (box.right - left) / n
    cats = axes.categories(style, style.categories, slot, box, left + slot / 2)
    labels = _value_labels(style, slot, box.right - left)

    value_h = labels[0].height + gap * 0.5 if labels else 0.0
    marker = _marker_radius(style, n) if chart.type in ("line", "area") else 0.0
    top = box.top + header_h + max(tick_h / 2, value_h + marker)
    below = max(gap, tick_h / 2 + 1)
    negative_room = value_h + marker if labels and ticks.lo < 0 else 0.0
    bottom = box.bottom - cats.height - below - negative_room
    rect = Rect(left, round(top), box.right, round(max(top + 1, bottom)))
    room = Rect(left, box.top + header_h, box.right, rect.bottom + negative_room)
    return _Plot(rect, ticks, n, room), cats, labels, tick_labels


def _zero_is_near(lo: float, hi: float) -> bool:
    """A line's axis starts at zero when the data's span is not far from it."""
    if lo <= 0 <= hi:
        return True
    near, far = sorted((abs(lo), abs(hi)))
    return near <= 0.5 * far


def _value_labels(style: Style, slot: float, plot_width: float) -> list[Label] | None:
    """Value labels in drawing order: bars by category then series; stacks their
    totals; lines and areas each series' points (by default only for one series).
    Each fits the pitch from its neighbour: a slot, or a bar within a group."""
    chart = style.chart
    series = chart.data_series
    if chart.type == "bar":
        values = [s.values[i] for i in range(len(style.categories)) for s in series]
        k = len(series)
        pitch = slot if k == 1 else _bar_geometry(slot, plot_width, k)[1]
        return axes.value_labels(style, values, pitch)
    if chart.type == "stacked_bar":
        totals = [sum(column) for column in zip(*(s.values for s in series))]
        return axes.value_labels(style, totals, slot)
    values = [v for s in series for v in s.values]
    few = len(series) == 1 and len(style.categories) <= 12
    return axes.value_labels(style, values, slot, default=few)


def _marker_radius(style: Style, n: int) -> float:
    return _line_width(style) * 1.5 if n <= 24 else 0.0


def _line_width(style: Style) -> float:
    return style.px(0.011, 1.5)


# ── bars ──────────────────────────────────────────────────────────────────────────


def _bar_geometry(slot: float, plot_width: float, k: int) -> tuple[float, float]:
    """Width of one bar and the step between the bars of a group."""
    group = slot * _GROUP
    width = min(group / (k + (k - 1) * _GROUP_GAP), plot_width * _MAX_BAR)
    return width, width * (1 + _GROUP_GAP)


def _bars(
    style: Style, plot: _Plot, colours: Sequence[RGB], labels: list[Label] | None
) -> tuple[list[_Shape], list[Placed]]:
    series = style.chart.data_series
    k, n = len(series), plot.n
    width, step = _bar_geometry(plot.slot, plot.rect.width, k)
    radius = min(width * 0.2, style.u * 0.012)
    slots = windows(n * k, style.chart.stagger)
    base, gap = plot.baseline, style.px(GAP) * 0.5
    shapes, placed = [], []
    for i in range(n):
        first = plot.centre(i) - (width + step * (k - 1)) / 2
        for j, s in enumerate(series):
            item = i * k + j
            value, left = s.values[i], first + j * step
            end = plot.y(value)
            window = slots[item]
            if end != base:
                up = end < base
                sketch = Sketch(left, min(base, end), left + width, max(base, end))
                corners = (True, True, False, False) if up else (False, False, True, True)
                sketch.rect(left, min(base, end), left + width, max(base, end), colours[j], radius, corners)
                shapes.append(_Shape(sketch, grow(style.timing, window, base, end)))
            if labels:  # the label appears when its bar is full
                anchor, y = ("mt", end + gap) if value < 0 else ("mb", end - gap)
                placed.append(place_value(labels[item], left + width / 2, y, anchor, window[1]))
    return shapes, placed


def _stacks(
    style: Style, plot: _Plot, colours: Sequence[RGB], labels: list[Label] | None
) -> tuple[list[_Shape], list[Placed]]:
    series = style.chart.data_series
    width, _ = _bar_geometry(plot.slot, plot.rect.width, 1)
    radius = min(width * 0.2, style.u * 0.012)
    seam = max(1.0, style.u * 0.004)  # the gap between two segments
    slots = windows(plot.n, style.chart.stagger)
    base, gap = plot.baseline, style.px(GAP) * 0.5
    shapes, placed = [], []
    for i in range(plot.n):
        left = plot.centre(i) - width / 2
        column = [s.values[i] for s in series]
        top, bottom = plot.y(sum(v for v in column if v > 0)), plot.y(sum(v for v in column if v < 0))
        sketch = Sketch(left, top, left + width, bottom)
        for sign in (1, -1):
            _draw_stack_part(sketch, plot, column, colours, sign, left, width, radius, seam)
        shapes.append(_Shape(sketch, stack(style.timing, slots[i], base, top, bottom)))
        if labels:
            total = sum(column)
            anchor, y = ("mt", bottom + gap) if total < 0 else ("mb", top - gap)
            placed.append(place_value(labels[i], left + width / 2, y, anchor, slots[i][1]))
    return shapes, placed


def _draw_stack_part(
    sketch: Sketch,
    plot: _Plot,
    column: Sequence[float],
    colours: Sequence[RGB],
    sign: int,
    left: float,
    width: float,
    radius: float,
    seam: float,
) -> None:
    """The positive (sign 1) or negative (−1) part of one stack, segments in series order."""
    parts = [(v, colours[j]) for j, v in enumerate(column) if v * sign > 0]
    running = 0.0
    for index, (value, colour) in enumerate(parts):
        a, b = plot.y(running), plot.y(running + value)
        running += value
        last = index == len(parts) - 1
        inner = 0.0 if last else seam / 2  # leave a seam before the next segment
        if sign > 0:
            rect = (left, b + inner, left + width, a)
            corners = (True, True, False, False)
        else:
            rect = (left, a, left + width, b - inner)
            corners = (False, False, True, True)
        sketch.rect(*rect, colour, radius if last else 0, corners)


# ── lines and areas ───────────────────────────────────────────────────────────────


def _points(plot: _Plot, values: Sequence[float]) -> list[tuple[float, float]]:
    return [(plot.centre(i), plot.y(v)) for i, v in enumerate(values)]


def _line_sketch(points: Sequence[tuple[float, float]], colour: RGB, width: float, marker: float) -> Sketch:
    reach = max(width, marker * 2)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    sketch = Sketch(min(xs) - reach, min(ys) - reach, max(xs) + reach, max(ys) + reach)
    sketch.polyline(points, width, colour)
    if marker:
        for x, y in points:
            sketch.circle(x, y, marker, colour)
    return sketch


def _lines(
    style: Style, plot: _Plot, colours: Sequence[RGB], labels: list[Label] | None
) -> tuple[list[_Shape], list[Placed]]:
    series = style.chart.data_series
    width, marker = _line_width(style), _marker_radius(style, plot.n)
    slots = windows(len(series), style.chart.stagger)
    first, last = plot.centre(0), plot.centre(plot.n - 1)
    shapes, lines, times = [], [], []
    for j, s in enumerate(series):
        points = _points(plot, s.values)
        reveal = along(style.timing, slots[j], first, last)
        shapes.append(_Shape(_line_sketch(points, colours[j], width, marker), reveal))
        lines.append(points)
        times.append([float(reveal(np.float32(x), np.float32(y))) for x, y in points])
    if not labels:
        return shapes, []
    return shapes, _point_labels(style, plot, labels, lines, times, width / 2 + marker)


def _areas(
    style: Style, plot: _Plot, colours: Sequence[RGB], labels: list[Label] | None
) -> tuple[list[_Shape], list[Placed]]:
    series = style.chart.data_series
    width = _line_width(style)
    opacity = _AREA_ALPHA[0] if len(series) == 1 else _AREA_ALPHA[1]
    slots = windows(len(series), style.chart.stagger)
    base = plot.baseline
    shapes, lines, reveals = [], [], []
    for j, s in enumerate(series):
        points = _points(plot, s.values)
        reveal = rise(style.timing, slots[j], points, base)
        fill = Sketch(points[0][0], plot.rect.top, points[-1][0], plot.rect.bottom)
        fill.polygon([(points[0][0], base), *points, (points[-1][0], base)], colours[j])
        shapes.append(_Shape(fill, reveal, opacity))
        shapes.append(_Shape(_line_sketch(points, colours[j], width, 0.0), reveal))
        lines.append(points)
        reveals.append([reveal] * plot.n)
    if not labels:
        return shapes, []
    # A label on the fill rises with it (it would cut a hole in the fill otherwise);
    # one above the curve appears when the area is full.
    return shapes, _point_labels(style, plot, labels, lines, reveals, width / 2)


# ── labels at points, placed off the lines ────────────────────────────────────────

#: Where a label may sit around its point, in order of preference: (dx, dy) says on
#: which side of the point (right, left; below, above) its box goes, 0 for centred.
_ABOVE = ((0, -1), (1, -1), (-1, -1), (0, 1), (1, 1), (-1, 1))
_BELOW = ((0, 1), (1, 1), (-1, 1), (0, -1), (1, -1), (-1, -1))


def _samples(lines: Sequence[Sequence[tuple[float, float]]]) -> np.ndarray:
    """Points every pixel or so along every line: what a label must not cover."""
    out = []
    for points in lines:
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            count = max(2, int(np.hypot(x1 - x0, y1 - y0)) + 1)
            t = np.linspace(0.0, 1.0, count)
            out.append(np.stack([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t], axis=1))
        out.append(np.array(points, dtype=np.float64))
    return np.concatenate(out)


def _point_labels(
    style: Style,
    plot: _Plot,
    labels: Sequence[Label],
    lines: Sequence[Sequence[tuple[float, float]]],
    reveals: Sequence[Sequence[Reveal]],
    clearance: float,
) -> list[Placed]:
    """Each point's label where it covers the least of any line (and comes no nearer
    another label than the gap labels keep)."""
    samples = _samples(lines)
    gap = style.px(GAP) * 0.3
    taken: list[tuple[float, float, float, float]] = []
    values = [v for s in style.chart.data_series for v in s.values]
    points = [p for line in lines for p in line]
    reveal_at = [r for line in reveals for r in line]
    placed = []
    for label, (x, y), value, reveal in zip(labels, points, values, reveal_at):
        box = _best_spot(label, x, y, value, samples, taken, plot.room, clearance + gap)
        taken.append(box)
        placed.append(Placed(label, box[0], box[1], reveal))
    return placed


def _best_spot(
    label: Label,
    x: float,
    y: float,
    value: float,
    samples: np.ndarray,
    taken: Sequence[tuple[float, float, float, float]],
    room: Rect,
    clearance: float,
) -> tuple[float, float, float, float]:
    w, h = label.width, label.height
    costed: list[tuple[int, tuple[float, float, float, float]]] = []
    for dx, dy in _BELOW if value < 0 else _ABOVE:
        cx = x if dx == 0 else x + dx * (w / 2 + clearance * 0.5)
        cy = y + dy * (h / 2 + clearance)
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        cost = _covered(samples, box, clearance * 0.5)
        if box[0] < room.left or box[1] < room.top or box[2] > room.right or box[3] > room.bottom:
            cost += 10_000
        if any(_overlap(box, other, LABEL_GAP * label.size) for other in taken):
            cost += 1_000
        costed.append((cost, box))
        if cost == 0:
            break  # nothing covered: no later spot can do better
    return min(costed, key=lambda spot: spot[0])[1]  # the first of the cheapest


def _covered(samples: np.ndarray, box: tuple[float, float, float, float], margin: float) -> int:
    left, top, right, bottom = box
    xs, ys = samples[:, 0], samples[:, 1]
    inside = (xs > left - margin) & (xs < right + margin) & (ys > top - margin) & (ys < bottom + margin)
    return int(inside.sum())


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float) -> bool:
    """Whether boxes `a` and `b` come within `gap` of each other."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap
