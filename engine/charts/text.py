"""Chart text measured with the font itself: sizes, wrapping into two lines, ellipses.

A `Label` is a few lines of one font, measured as engine/layout.py measures slide
text: a line's box spans the font's ascent and descent (and any ink beyond them), so
what is laid out by these boxes is never clipped. Widths are ink widths.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from ..text.fit import MIN_PX
from ..text.typeface import load_font
from .canvas import Canvas, Reveal

__all__ = ["Label", "ellipsize", "fit_labels", "measure", "sizes", "wrap_or_cut"]

ELLIPSIS = "\u2026"
_SHRINK = 0.92  # each fitting step multiplies the size by this
_LINE_SPACING = 1.05


@dataclass(frozen=True)
class Label:
    """Lines of text in one font, measured; drawn by `draw` with its top edge at `top`."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    inks: tuple[tuple[int, int], ...]  # per line, ink x0..x1 relative to the pen
    above: int  # first baseline below the top edge
    below: int  # last baseline above the bottom edge
    gap: int  # baseline to baseline

    @property
    def width(self) -> int:
        return max((x1 - x0 for x0, x1 in self.inks), default=0)

    @property
    def height(self) -> int:
        return self.above + (len(self.lines) - 1) * self.gap + self.below

    @property
    def size(self) -> int:
        return int(self.font.size)  # load_font sizes are whole pixels

    @property
    def first_line_middle(self) -> float:
        """The middle of the first line's box, from the top: where a swatch beside it centres."""
        return (self.above + self.below) / 2

    def draw(
        self,
        canvas: Canvas,
        x: float,
        top: float,
        rgb: tuple[int, int, int],
        *,
        align: str = "center",
        alpha: float = 1.0,
        reveal: Reveal = None,
    ) -> None:
        """Draw at `top`; `x` is the left edge, centre or right edge per `align`."""
        for i, (line, (x0, x1)) in enumerate(zip(self.lines, self.inks)):
            if align == "center":
                pen = x - (x0 + x1) / 2
            elif align == "right":
                pen = x - x1
            else:
                pen = x - x0
            canvas.text(pen, top + self.above + i * self.gap, line, self.font, rgb, alpha=alpha, reveal=reveal)


def _ink(font: ImageFont.FreeTypeFont, line: str) -> tuple[int, int, int, int]:
    if not line:
        return (0, 0, 0, 0)
    x0, y0, x1, y1 = map(int, font.getbbox(line, anchor="ls"))  # whole pixels from FreeType
    return x0, y0, x1, y1


def measure(lines: Sequence[str] | str, font: ImageFont.FreeTypeFont) -> Label:
    """A `Label` of `lines` (one string is one line) set in `font`."""
    lines = (lines,) if isinstance(lines, str) else tuple(lines)
    ascent, descent = font.getmetrics()
    boxes = [_ink(font, line) for line in lines]
    above = max([ascent] + [-y0 for _, y0, _, _ in boxes])
    below = max([descent] + [y1 for _, _, _, y1 in boxes])
    inks = tuple((min(0, x0), x1) for x0, _, x1, _ in boxes)
    gap = round(_LINE_SPACING * (ascent + descent))
    return Label(lines, font, inks, above, below, gap)


def sizes(largest: int, floor: int) -> Iterator[int]:
    """Font sizes from `largest` down to `floor` (never below the engine's minimum)."""
    floor = max(MIN_PX, min(floor, largest))
    size = max(largest, floor)
    while size > floor:
        yield size
        size = max(floor, min(size - 1, int(size * _SHRINK)))
    yield floor


def _width(font: ImageFont.FreeTypeFont, text: str) -> int:
    x0, _, x1, _ = _ink(font, text)
    return x1 - min(0, x0)


def _two_lines(font: ImageFont.FreeTypeFont, text: str, width: int) -> tuple[str, ...] | None:
    """`text` on one line if it fits, else split at the space that balances two lines."""
    if _width(font, text) <= width:
        return (text,)
    words = text.split()
    best = None
    for cut in range(1, len(words)):
        pair = (" ".join(words[:cut]), " ".join(words[cut:]))
        widest = max(_width(font, line) for line in pair)
        if widest <= width and (best is None or widest < best[0]):
            best = (widest, pair)
    return best[1] if best else None


def fit_labels(
    texts: Sequence[str], path: Path, width: int, largest: int, floor: int, *, wrap: bool = True
) -> list[Label] | None:
    """The largest size at which every text fits `width`, on one line or (`wrap`) two.

    One line a little smaller reads better than two at full size, so one line is
    tried first down to 80 % of `largest`, then (`wrap`) two lines or (not) one line
    down to `floor`. None when nothing fits at the floor.
    """
    attempts = [(False, max(floor, round(largest * 0.8))), (wrap, floor)]
    for two_lines, low in attempts:
        for size in sizes(largest, low):
            font = load_font(path, size)
            fitted = [label for text in texts if (label := _fit_one(font, text, width, two_lines)) is not None]
            if len(fitted) == len(texts):
                return fitted
    return None


def _fit_one(font: ImageFont.FreeTypeFont, text: str, width: int, two_lines: bool) -> Label | None:
    if two_lines:
        lines = _two_lines(font, text, width)
        return None if lines is None else measure(lines, font)
    return measure(text, font) if _width(font, text) <= width else None


def wrap_or_cut(font: ImageFont.FreeTypeFont, text: str, width: int) -> tuple[str, ...]:
    """`text` in lines no wider than `width`: one, else two split at a space, else one cut."""
    return _two_lines(font, text, width) or (ellipsize(font, text, width),)


def ellipsize(font: ImageFont.FreeTypeFont, text: str, width: int) -> str:
    """`text`, cut and ended with "…" if it is wider than `width`."""
    if _width(font, text) <= width:
        return text
    while text and _width(font, text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS if text.strip() else ELLIPSIS
