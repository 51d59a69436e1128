"""Round charts: pie, donut and the kpi number with its progress ring.

A pie or donut sits beside its legend in a wide box and above it otherwise, whichever
leaves the larger circle; each legend entry gives the slice's value (with the unit)
or, without a unit, its share. Slices big enough carry their share inside.

Reveal: the slices sweep clockwise from 12 o'clock (a pixel's time is its angle),
share labels with them. The kpi ring fills clockwise the same way; its number, label
and delta are there from the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import SpecError
from . import axes
from .canvas import Canvas, Sketch
from .drawn import Drawn, as_set, cuts
from .format import auto_decimals, format_value
from .palette import ink_for
from .reveal import RevealFn, sweep
from .style import GAP, GRID_ALPHA, LABEL_ALPHA, MUTED_ALPHA, Rect, Style
from .text import Label, ellipsize, fit_labels, measure, sizes, wrap_or_cut

__all__ = ["draw_kpi", "draw_pie"]

RGB = tuple[int, int, int]

_HOLE = 0.58  # a donut's hole, as a share of its radius
_ENTRY = (0.062, 0.04)  # pie legend text: largest, floor (fractions of u)
_SHARE = (0.055, 0.036)  # share labels inside slices
# The most of the box's width (beside the pie) or height (below it) its legend takes.
_LEGEND_BESIDE, _LEGEND_BELOW = 0.45, 0.38
_NAME_INDENT, _VALUE_GAP = 1.6, 1.2  # in a pie legend, in swatch widths
#: Delta colours (Okabe–Ito bluish green and vermillion); the arrow says it too.
_UP, _DOWN = (0, 158, 115), (213, 94, 0)
_RISE, _FALL = "\u25b2", "\u25bc"
_RING = 0.085  # the kpi ring's thickness, as a share of its diameter


# ── pie and donut ─────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Entry:
    name: Label
    value: Label
    text: str  # the name before fitting

    @property
    def height(self) -> float:
        return max(self.name.height, self.value.height)


@dataclass(frozen=True)
class _PieLegend:
    """One entry per slice: swatch, name (one line or two), and its value right-aligned
    in a column, level with the name's first line."""

    entries: tuple[_Entry, ...]
    swatch: float
    spacing: float  # below each entry

    @property
    def width(self) -> float:
        names = max(e.name.width for e in self.entries)
        values = max(e.value.width for e in self.entries)
        return self.swatch * (_NAME_INDENT + _VALUE_GAP) + names + values

    @property
    def height(self) -> float:
        return sum(e.height + self.spacing for e in self.entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(as_set(e.name) for e in self.entries)

    @property
    def cut(self) -> tuple[tuple[str, str], ...]:
        return cuts([e.text for e in self.entries], [e.name for e in self.entries])

    def draw(self, canvas: Canvas, left: float, top: float, colours: Sequence[RGB], style: Style) -> None:
        y = top
        for entry, colour in zip(self.entries, colours):
            mid = y + entry.name.first_line_middle
            sketch = Sketch(left, mid - self.swatch / 2, left + self.swatch, mid + self.swatch / 2)
            sketch.rect(
                left,
                mid - self.swatch / 2,
                left + self.swatch,
                mid + self.swatch / 2,
                colour,
                radius=self.swatch * 0.25,
            )
            canvas.sketch(sketch)
            name_left = left + self.swatch * _NAME_INDENT
            entry.name.draw(canvas, name_left, y, style.text, align="left", alpha=LABEL_ALPHA)
            entry.value.draw(canvas, left + self.width, y, style.text, align="right", alpha=MUTED_ALPHA)
            y += entry.height + self.spacing


@dataclass(frozen=True)
class _PieLayout:
    cx: float
    cy: float
    r: float
    legend: _PieLegend | None
    legend_at: tuple[float, float]  # its top-left corner


def _shares(values: Sequence[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]


def _share_text(share: float, language: str | None) -> str:
    percent = share * 100
    return format_value(percent, "%", 1 if 0 < percent < 1 else 0, language=language)


def _pie_legend(style: Style, width: float, height: float) -> _PieLegend | None:
    """Entries fitted into width × height at the largest size at which every name reads
    whole (on one line, or two); at the smallest size, names cut. None if none fits."""
    chart = style.chart
    values = chart.data_series[0].values
    amounts = [
        style.value_text(v) if chart.unit else _share_text(s, style.language) for v, s in zip(values, _shares(values))
    ]
    largest, floor = style.size(_ENTRY[0]), style.size(_ENTRY[1])
    for size in sizes(largest, floor):
        fitted = _pie_entries(style, style.categories, amounts, size, width, cut=size == floor)
        if fitted is not None and fitted.height <= height:
            return fitted
    return None


def _pie_entries(
    style: Style, texts: Sequence[str], amounts: Sequence[str], size: int, width: float, *, cut: bool
) -> _PieLegend | None:
    """The legend at `size`; None where a name would need more than two lines (unless `cut`)."""
    font, bold = style.regular(size), style.bold(size)
    swatch = round(font.getmetrics()[0] * 0.72)
    value_labels = [measure(text, bold) for text in amounts]
    name_room = int(width - swatch * (_NAME_INDENT + _VALUE_GAP) - max(v.width for v in value_labels))
    if name_room < size * 2:
        return None
    names = []
    for text in texts:
        lines = wrap_or_cut(font, text, name_room)
        if not cut and " ".join(lines) != " ".join(text.split()):
            return None
        names.append(measure(lines, font))
    spacing = axes.font_height(font) * 0.35
    return _PieLegend(tuple(_Entry(n, v, t) for n, v, t in zip(names, value_labels, texts)), swatch, spacing)


def _pie_layout(style: Style, box: Rect) -> _PieLayout:
    """The circle and its legend, side by side or stacked: whichever shows every name
    whole, then whichever leaves the larger circle."""
    gap = style.px(GAP) * 2
    best = None
    for beside in (True, False):
        if beside:
            legend = _pie_legend(style, box.width * _LEGEND_BESIDE, box.height)
            room = (box.width - (legend.width + gap if legend else 0), box.height)
        else:
            legend = _pie_legend(style, box.width, box.height * _LEGEND_BELOW)
            room = (box.width, box.height - (legend.height + gap if legend else 0))
        if legend is None:
            continue
        rank = (not legend.cut, min(room))
        if best is None or rank > best[0]:
            best = (rank, beside, legend)
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    if best is None:  # no legend fits at all: the circle alone
        return _PieLayout(cx, cy, min(box.width, box.height) / 2, None, (0.0, 0.0))
    (_, diameter), beside, legend = best
    r = diameter / 2
    if beside:
        left = box.left + (box.width - diameter - gap - legend.width) / 2
        return _PieLayout(left + r, cy, r, legend, (left + diameter + gap, cy - legend.height / 2))
    top = box.top + (box.height - diameter - gap - legend.height) / 2
    return _PieLayout(cx, top + r, r, legend, (cx - legend.width / 2, top + diameter + gap))


def draw_pie(canvas: Canvas, style: Style) -> Drawn:
    chart = style.chart
    values = chart.data_series[0].values
    colours = style.colours(len(values))
    box = axes.inner_box(canvas, style)
    layout = _pie_layout(style, box)
    cx, cy, r = layout.cx, layout.cy, layout.r
    hole = r * _HOLE if chart.type == "donut" else 0.0
    shares = _shares(values)
    ends = [sum(shares[: i + 1]) for i in range(len(shares))]

    sketch = Sketch(cx - r, cy - r, cx + r, cy + r)
    start = 0.0
    for end, colour in zip(ends, colours):
        if end > start:
            sketch.sector(cx, cy, r, start * 360, end * 360, colour)
        start = end
    _cut_seams(sketch, cx, cy, r, ends, style)
    if hole:
        sketch.circle(cx, cy, hole, None)
    reveal = sweep(style.timing, (0.0, 1.0), cx, cy)
    canvas.sketch(sketch, reveal=reveal)
    # Share labels sit on their slices, so the sweep reveals them with the slice:
    # any later and the slice would show a hole the label's shape until then.
    _share_labels(canvas, style, cx, cy, r, hole, shares, ends, colours, reveal)
    if hole and chart.unit and chart.unit != "%":
        _centre_total(canvas, style, cx, cy, hole, sum(values))
    if not layout.legend:
        return Drawn(chart.type)
    layout.legend.draw(canvas, *layout.legend_at, colours, style)
    legend = layout.legend
    return Drawn(
        chart.type,
        values=tuple(as_set(e.value) for e in legend.entries),
        value_size=legend.entries[0].value.size,
        legend=legend.names,
        cut=legend.cut,
    )


def _cut_seams(sketch: Sketch, cx: float, cy: float, r: float, ends: Sequence[float], style: Style) -> None:
    """Thin transparent seams between slices (none for a single full slice)."""
    if sum(1 for a, b in zip([0.0, *ends], ends) if b > a) < 2:
        return
    seam = max(1.0, style.u * 0.006)
    for turn in [0.0, *ends[:-1]]:
        angle = turn * 2 * math.pi
        tip = (cx + r * 1.05 * math.sin(angle), cy - r * 1.05 * math.cos(angle))
        sketch.polyline([(cx, cy), tip], seam, None)


def _share_labels(
    canvas: Canvas,
    style: Style,
    cx: float,
    cy: float,
    r: float,
    hole: float,
    shares: Sequence[float],
    ends: Sequence[float],
    colours: Sequence[RGB],
    reveal: RevealFn,
) -> None:
    """A slice's share inside it, where it fits."""
    largest, floor = style.size(_SHARE[0]), style.size(_SHARE[1])
    font = style.bold(max(floor, min(largest, round(r * 0.16))))
    radius = (r + hole) / 2 if hole else r * 0.64
    thickness = r - hole if hole else r
    for share, end, colour in zip(shares, ends, colours):
        label = measure(_share_text(share, style.language), font)
        arc = share * 2 * math.pi * radius
        if arc < label.width * 1.25 or thickness < label.height * 1.15 or share >= 1:
            continue
        angle = (end - share / 2) * 2 * math.pi
        x, y = cx + radius * math.sin(angle), cy - radius * math.cos(angle)
        label.draw(canvas, x, y - label.height / 2, ink_for(colour), reveal=reveal)


def _centre_total(canvas: Canvas, style: Style, cx: float, cy: float, hole: float, total: float) -> None:
    text = style.value_text(total)
    fitted = fit_labels([text], style.fonts.bold, int(hole * 1.5), round(hole * 0.45), style.size(0.04), wrap=False)
    if fitted:
        label = fitted[0]
        label.draw(canvas, cx, cy - label.height / 2, style.text)


# ── kpi ───────────────────────────────────────────────────────────────────────────


def draw_kpi(canvas: Canvas, style: Style) -> Drawn:
    chart = style.chart
    box = axes.inner_box(canvas, style)
    cx, cy = box.left + box.width / 2, box.top + box.height / 2
    if chart.progress is None:
        return _kpi_text(canvas, style, cx, cy, box.width * 0.94, box.height * 0.94)
    diameter = min(box.width, box.height)
    thickness = diameter * _RING
    radius = (diameter - thickness) / 2  # the ring's centre line
    _ring(canvas, style, cx, cy, radius, thickness, chart.progress)
    inner = 2 * (radius - thickness / 2)
    return _kpi_text(canvas, style, cx, cy, inner * 0.76, inner * 0.7)


def _ring(canvas: Canvas, style: Style, cx: float, cy: float, radius: float, thickness: float, progress: float) -> None:
    track = Sketch(cx - radius - thickness, cy - radius - thickness, cx + radius + thickness, cy + radius + thickness)
    track.arc(cx, cy, radius, 0, 360, thickness, style.text)
    canvas.sketch(track, GRID_ALPHA)
    if progress <= 0:
        return
    colour = style.colours(1)[0]
    fill = Sketch(cx - radius - thickness, cy - radius - thickness, cx + radius + thickness, cy + radius + thickness)
    fill.arc(cx, cy, radius, 0, progress * 360, thickness, colour)
    if progress < 1:  # round caps
        for turn in (0.0, progress):
            angle = turn * 2 * math.pi
            fill.circle(cx + radius * math.sin(angle), cy - radius * math.cos(angle), thickness / 2, colour)
    offset = (1 - progress) / 2  # angles just before 12 o'clock (the start cap) count as 0
    canvas.sketch(fill, reveal=sweep(style.timing, (0.0, 1.0), cx, cy, turn=progress, offset=offset))


def _kpi_text(canvas: Canvas, style: Style, cx: float, cy: float, width: float, height: float) -> Drawn:
    """The number (the unit set smaller after it), the label and the delta, centred."""
    chart = style.chart
    big = _number_line(style, width, height)
    small = max(style.size(0.04), round(big.size * 0.3))
    lines: list[tuple[float, Callable[[float], None]]] = [(big.height, lambda y: big.draw(canvas, cx, y, style))]
    cut: tuple[tuple[str, str], ...] = ()
    if chart.label:
        label = _kpi_label(style, chart.label, width, small)
        cut = cuts([chart.label], [label])
        lines.append((label.height, lambda y: label.draw(canvas, cx, y, style.text, alpha=MUTED_ALPHA)))
    if chart.delta is not None:
        delta = measure(_delta_text(chart.delta, chart.delta_unit, style.language), style.bold(small))
        colour = _delta_colour(chart.delta, style)
        lines.append((delta.height, lambda y: delta.draw(canvas, cx, y, colour)))
    gap = style.px(GAP) * 0.5
    y = cy - (sum(h for h, _ in lines) + gap * (len(lines) - 1)) / 2
    for h, draw in lines:
        draw(y)
        y += h + gap
    number = big.number.lines[0] + (" " + big.unit.lines[0] if big.unit else "")
    return Drawn("kpi", values=(number,), value_size=big.size, cut=cut)


def _kpi_label(style: Style, text: str, width: float, size: int) -> Label:
    fitted = fit_labels([text], style.fonts.regular, int(width), size, style.size(0.035))
    if fitted:
        return fitted[0]
    font = style.regular(style.size(0.035))
    return measure(ellipsize(font, text, int(width)), font)


def _delta_colour(delta: float, style: Style) -> RGB:
    if round(delta, auto_decimals([delta])) == 0:
        return style.text
    return _UP if delta > 0 else _DOWN


def _number_line(style: Style, width: float, height: float) -> _NumberLine:
    """The number as large as fits (half the height at most); compact ("1.23M") if
    even the smallest full number is too wide."""
    largest, floor = max(style.size(0.05), round(height * 0.5)), style.size(0.05)
    for compact in (False, True):
        number, unit = _number_parts(style, compact)
        for size in sizes(largest, floor):
            line = _NumberLine(number, unit, style, size)
            if line.width <= width:
                return line
    return line


def _number_parts(style: Style, compact: bool) -> tuple[str, str]:
    """The number (a currency sign included) and the unit set after it, if any."""
    chart = style.chart
    if chart.value is None:  # parse_chart requires it of a kpi; only a Chart built by hand lacks it
        raise SpecError("required for a kpi chart", "chart.value")
    text = style.value_text(chart.value, compact=compact)
    if chart.unit and text.endswith(" " + chart.unit):
        return text[: -len(chart.unit) - 1], chart.unit
    return text, ""


def _delta_text(delta: float, unit: str | None, language: str | None) -> str:
    """ "▲ 3.5 %", "▼ 0.25 pts", or "0 %" for no change."""
    decimals = auto_decimals([delta])
    text = format_value(abs(delta), unit or "%", decimals, language=language)
    if round(delta, decimals) == 0:
        return text
    return f"{_RISE if delta > 0 else _FALL} {text}"


class _NumberLine:
    """A big bold number with its unit in regular weight at 40 % size, on one baseline."""

    def __init__(self, number: str, unit: str, style: Style, size: int) -> None:
        self.size = size
        self.number = measure(number, style.bold(size))
        self.unit = measure(unit, style.regular(max(9, round(size * 0.4)))) if unit else None
        self.space = round(size * 0.12) if unit else 0

    @property
    def width(self) -> float:
        return self.number.width + (self.space + self.unit.width if self.unit else 0)

    @property
    def height(self) -> float:
        return self.number.height

    def draw(self, canvas: Canvas, cx: float, top: float, style: Style) -> None:
        left = cx - self.width / 2
        self.number.draw(canvas, left, top, style.text, align="left")
        if self.unit:
            baseline = top + self.number.above
            unit_top = baseline - self.unit.above
            self.unit.draw(
                canvas, left + self.number.width + self.space, unit_top, style.text, align="left", alpha=MUTED_ALPHA
            )
