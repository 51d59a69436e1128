"""What drawing a chart set in words: the record each family hands back with its pixels.

    drawn.kind          "hbar" for a bar chart whose labels read better sideways
    drawn.values        ("1,850", "1,860", ...): one number format whatever the box
    drawn.cut           (("Carbohydrates", "Carbohydr…"),): texts that did not fit whole

`engine.charts.draw` logs a warning for every chart with a cut, as the canvas does
for ink cut at the box's edge; tests read the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .text import Label

__all__ = ["Drawn", "as_set", "cuts"]


@dataclass(frozen=True)
class Drawn:
    """The texts of one drawn chart, as set (a label's lines joined by a space)."""

    kind: str  # the family drawn: the chart's type, or "hbar" for a bar chart turned sideways
    values: tuple[str, ...] = ()  # value labels, in drawing order; () when none is shown
    value_size: int = 0  # their font size in px
    categories: tuple[str, ...] = ()  # category labels shown
    legend: tuple[str, ...] = ()  # legend names
    cut: tuple[tuple[str, str], ...] = ()  # (text, as set) for every text cut to fit


def as_set(label: Label) -> str:
    return " ".join(label.lines)


def cuts(texts: Sequence[str], labels: Iterable[Label]) -> tuple[tuple[str, str], ...]:
    """(text, as set) for each label that does not read as its text (ellipsized)."""
    return tuple((text, as_set(label)) for text, label in zip(texts, labels) if as_set(label) != " ".join(text.split()))


class SteppedLabels:
    """What a row of category labels loses: those cut to fit, and those a `step` skips.

    Mixed into the label layouts that have `labels`, `texts` (before fitting) and `step`.
    """

    labels: Sequence[Label]
    texts: tuple[str, ...]
    step: int

    @property
    def cut(self) -> tuple[tuple[str, str], ...]:
        return cuts(self.texts[:: self.step], self.labels[:: self.step])

    @property
    def lost(self) -> int:
        """How many labels do not read whole: cut, or not shown."""
        return len(self.cut) + len(self.labels) - len(self.labels[:: self.step])
