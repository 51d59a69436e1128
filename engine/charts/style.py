"""What every chart shares: the type scale, colours, text formats and the legend.

Sizes are fractions of the unit ``u``, the smaller side of the chart's box, so a chart
reads the same relative to its box in 16:9, 9:16 and 1:1; no text is set below the
engine's minimum pixel size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageFont

from ..text.fit import MIN_PX
from ..text.typeface import FontSet, load_font
from .canvas import Canvas, Sketch
from .format import auto_decimals, format_value
from .model import Chart
from .palette import series_colours
from .reveal import Timing
from .text import Label, measure, wrap_or_cut

__all__ = ["Legend", "Rect", "Style", "legend"]

RGB = tuple[int, int, int]

# ── type scale and spacing, as fractions of u ─────────────────────────────────────
PAD = 0.02  # inside the box's edge
GAP = 0.022  # between a label and what it labels
TICK = 0.048
CATEGORY = (0.058, 0.04)  # largest, floor
VALUE = (0.056, 0.034)
LEGEND = 0.05
# ── around value labels, as shares of the label's own font size ───────────────────
LABEL_GAP = 0.5  # the least space between two neighbouring labels
KNOCKOUT = 0.25  # gridline cut away left and right of a label (half the gap: two never meet)

# ── opacity of text and lines, in the text colour ─────────────────────────────────
GRID_ALPHA = 0.14
AXIS_ALPHA = 0.45
MUTED_ALPHA = 0.62
LABEL_ALPHA = 0.9


@dataclass(frozen=True)
class Rect:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Style:
    """Fonts, colours, unit size and timing for one chart in one box."""

    chart: Chart
    fonts: FontSet
    text: RGB
    accent: RGB | None
    background: RGB | None
    u: float  # the box's smaller side: every size is a fraction of it
    timing: Timing

    def px(self, fraction: float, minimum: float = 1.0) -> float:
        return max(minimum, fraction * self.u)

    def size(self, fraction: float) -> int:
        return max(MIN_PX, round(fraction * self.u))

    def regular(self, size: int) -> ImageFont.FreeTypeFont:
        return load_font(self.fonts.regular, size)

    def bold(self, size: int) -> ImageFont.FreeTypeFont:
        return load_font(self.fonts.bold, size)

    def colours(self, count: int, per_item: Sequence[str | None] = ()) -> list[RGB]:
        """`count` colours: per-item colours, then the chart's ``colors``, then the palette."""
        overrides: list[str | None] = list(per_item) + [None] * max(0, count - len(per_item))
        for index, colour in enumerate(self.chart.colors or []):
            if index < count and overrides[index] is None:
                overrides[index] = colour
        return series_colours(count, accent=self.accent, background=self.background, overrides=overrides)

    @property
    def categories(self) -> list[str]:
        """The category names: every chart but a kpi has them (`Chart` checks it)."""
        return self.chart.labels or []

    def decimals(self, value: float) -> int:
        """The chart's ``decimals``, or as few as print `value` exactly (at most 2)."""
        return self.chart.decimals if self.chart.decimals is not None else auto_decimals([value])

    @property
    def language(self) -> str | None:
        """The deck's ``theme.language``: how the chart writes numbers (English if None)."""
        return self.fonts.options.language

    def value_text(self, value: float, *, unit: bool = True, compact: bool = False) -> str:
        unit_text = self.chart.unit if unit else None
        return format_value(value, unit_text, self.decimals(value), compact=compact, language=self.language)

    @property
    def unit_on_ticks(self) -> bool:
        """Short units ("%", "$") sit on every tick; longer ones get a caption."""
        unit = self.chart.unit
        return bool(unit and len(unit) <= 1)


# ── legend ────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Entry:
    label: Label
    colour: RGB
    x: float  # swatch's left edge, from the legend's left
    row: int
    text: str = ""  # the name before fitting


@dataclass(frozen=True)
class Legend:
    """Swatches and names in rows; ``height`` 0 when there is nothing to show."""

    entries: tuple[_Entry, ...]
    swatch: float
    row_height: float
    width: float

    @property
    def height(self) -> float:
        rows = 1 + max((e.row for e in self.entries), default=-1)
        return rows * self.row_height

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(" ".join(e.label.lines) for e in self.entries)

    @property
    def cut(self) -> tuple[tuple[str, str], ...]:
        return tuple((e.text, name) for e, name in zip(self.entries, self.names) if name != " ".join(e.text.split()))

    def draw(self, canvas: Canvas, right: float, top: float, text: RGB) -> None:
        """Draw with each row ending at `right`."""
        rows: dict[int, list[_Entry]] = {}
        for entry in self.entries:
            rows.setdefault(entry.row, []).append(entry)
        for row, entries in rows.items():
            last = entries[-1]
            shift = right - (last.x + self.swatch + self._gap + last.label.width)
            y = top + row * self.row_height
            for entry in entries:
                x = entry.x + shift
                mid = y + entry.label.first_line_middle
                sketch = Sketch(x, mid - self.swatch / 2, x + self.swatch, mid + self.swatch / 2)
                sketch.rect(
                    x,
                    mid - self.swatch / 2,
                    x + self.swatch,
                    mid + self.swatch / 2,
                    entry.colour,
                    radius=self.swatch * 0.25,
                )
                canvas.sketch(sketch)
                entry.label.draw(canvas, x + self.swatch + self._gap, y, text, align="left", alpha=LABEL_ALPHA)

    @property
    def _gap(self) -> float:
        return self.swatch * 0.5


def legend(style: Style, names: Sequence[str], colours: Sequence[RGB], width: float) -> Legend:
    """Entries packed into rows no wider than `width`; a name too long for a row goes
    on two lines, and only one too long for two is cut with "…"."""
    font = style.regular(style.size(LEGEND))
    ascent, _ = font.getmetrics()
    swatch = round(ascent * 0.72)
    gap, spacing = swatch * 0.5, swatch * 1.4
    entries, x, row = [], 0.0, 0
    row_height = 0.0
    for name, colour in zip(names, colours):
        room = max(1, int(width - swatch - gap))
        label = measure(wrap_or_cut(font, name, room), font)
        needed = swatch + gap + label.width
        if x > 0 and x + needed > width:
            x, row = 0.0, row + 1
        entries.append(_Entry(label, colour, x, row, name))
        row_height = max(row_height, label.height * 1.15)
        x += needed + spacing
    return Legend(tuple(entries), swatch, row_height, width)
