"""Text set in place: fitted lines given their pixel positions on the slide.

    block = place(fitted, "title", "text", left, top, width, "center")
    for line in block.lines: ...   # Line: x and baseline, its runs in their fonts

`place` turns a `FittedText` (block-local, from `engine.text.fit`) into a `TextBlock`
whose lines carry the positions `engine.text.paint` draws them at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fit import FittedText
from .runs import Run

__all__ = ["Box", "Line", "TextBlock", "place"]

Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)


@dataclass(frozen=True)
class Line:
    """One line of text, drawn with Pillow's ``anchor="ls"`` at (x, baseline).

    `runs` are its pieces left to right, each with its own font, direction and pen
    offset from `x` (engine.text.runs); `text` is the whole line in logical order.
    """

    text: str
    x: int
    baseline: int
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class TextBlock:
    """Lines of one size. `box` encloses their ink, full line heights and any legibility treatment.

    `font` is the block's own font (the first of its chain); runs may use others.
    `legibility` is the theme's treatment ("shadow", "outline", "scrim") or "none";
    `accent` colours ``[[accent]]`` spans.
    """

    role: str
    lines: tuple[Line, ...]
    font: Path
    size: int
    colour: str  # "text" | "muted" | "accent" | "on_band"
    box: Box
    truncated: bool = False
    legibility: str = "none"
    accent: str | None = None


def place(
    fit: FittedText, role: str, colour: str, left: int, top: int, width: int, align: str, mirror: bool = True
) -> TextBlock:
    """Position a fitted block: its top edge at `top`, aligned within [left, left+width).

    With `mirror` (a layout's own choice of alignment, not the deck's), "left" means
    the start of the line: the lines of a right-to-left paragraph go to the right.
    """
    ml, _, mr, _ = fit.margins
    inner_left, inner_width = left + ml, width - ml - mr
    lines: list[Line] = []
    box_l: int | None = None
    box_r: int | None = None
    for i, (text, (x0, x1)) in enumerate(zip(fit.lines, fit.inks)):
        line_align = align
        if mirror and align == "left" and i < len(fit.rtl) and fit.rtl[i]:
            line_align = "right"
        if line_align == "center":
            x = inner_left + (inner_width - (x1 - x0)) // 2 - x0
        elif line_align == "right":
            x = inner_left + inner_width - x1
        else:
            x = inner_left - x0
        baseline = top + (fit.baselines[i] if fit.baselines else fit.first_baseline + i * fit.gap)
        runs = fit.shaped[i].runs if fit.shaped else ()
        lines.append(Line(text, x, baseline, runs))
        if text:
            box_l = x + x0 if box_l is None else min(box_l, x + x0)
            box_r = x + x1 if box_r is None else max(box_r, x + x1)
    if box_l is None or box_r is None:  # no line has text
        box_l = box_r = inner_left
    box = (box_l - ml, top, box_r + mr, top + fit.height)
    return TextBlock(role, tuple(lines), fit.font, fit.size, colour, box, fit.truncated, fit.legibility, fit.accent)
