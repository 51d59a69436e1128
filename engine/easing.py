"""Easing curves: how progress moves through a transition or a motion.

An `Easing` maps linear time t in [0, 1] to progress. Named curves follow the usual
vocabulary (ease-in = slow start, ease-out = slow end) in three strengths, cubic,
quint and expo, plus back (a small overshoot) and CSS's cubic-bezier with four
numbers. In a deck: ``"easing": "ease-in-out"`` or ``"easing": [0.25, 0.1, 0.25, 1]``.

Every curve starts at 0 and ends at 1 exactly, so a transition still opens on its
source and closes on its target. Back curves leave [0, 1] on the way; transitions
clamp their progress, motions may use the overshoot.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SpecError, excerpt

__all__ = ["EASINGS", "LINEAR", "Easing", "easing_names", "parse_easing"]

_BACK = 1.70158  # the classic overshoot constant: about 10 % past the end


def _in_cubic(t: float) -> float:
    return t**3


def _in_quint(t: float) -> float:
    return t**5


def _in_expo(t: float) -> float:
    return 0.0 if t <= 0 else 2 ** (10 * t - 10)


def _in_back(t: float) -> float:
    return t * t * ((_BACK + 1) * t - _BACK)


def _out(curve: Callable[[float], float]) -> Callable[[float], float]:
    return lambda t: 1 - curve(1 - t)


def _in_out(curve: Callable[[float], float]) -> Callable[[float], float]:
    return lambda t: curve(2 * t) / 2 if t < 0.5 else 1 - curve(2 - 2 * t) / 2


_IN_CURVES = {"cubic": _in_cubic, "quint": _in_quint, "expo": _in_expo, "back": _in_back}

EASINGS: dict[str, Callable[[float], float]] = {"linear": lambda t: t}
for _strength, _curve in _IN_CURVES.items():
    EASINGS[f"ease-in-{_strength}"] = _curve
    EASINGS[f"ease-out-{_strength}"] = _out(_curve)
    EASINGS[f"ease-in-out-{_strength}"] = _in_out(_curve)
# The plain names are the cubic ones, as in most animation tools.
_ALIASES = {"ease-in": "ease-in-cubic", "ease-out": "ease-out-cubic", "ease-in-out": "ease-in-out-cubic"}


@dataclass(frozen=True)
class Easing:
    """A named curve, or a cubic Bézier from (0, 0) to (1, 1) with two control points."""

    name: str = "linear"
    bezier: tuple[float, float, float, float] | None = None

    def __call__(self, t: float) -> float:
        t = min(max(t, 0.0), 1.0)
        if t in (0.0, 1.0):
            return t  # exact ends, whatever the curve's rounding
        if self.bezier is not None:
            return _cubic_bezier(*self.bezier, t)
        return EASINGS[self.name](t)

    def __str__(self) -> str:
        if self.bezier is not None:
            return "cubic-bezier({:g}, {:g}, {:g}, {:g})".format(*self.bezier)
        return self.name


LINEAR = Easing()


def easing_names() -> list[str]:
    """Every name a deck may use, the short aliases included."""
    return list(EASINGS) + list(_ALIASES)


def _cubic_bezier(x1: float, y1: float, x2: float, y2: float, x: float) -> float:
    """CSS cubic-bezier: find the curve parameter s whose x is `x` (x is monotonic
    because x1, x2 are in [0, 1]), then return its y."""

    def coordinate(s: float, p1: float, p2: float) -> float:
        return 3 * p1 * s * (1 - s) ** 2 + 3 * p2 * s * s * (1 - s) + s**3

    low, high = 0.0, 1.0
    for _ in range(40):  # bisection: 2⁻⁴⁰ is far below a frame's worth of progress
        middle = (low + high) / 2
        if coordinate(middle, x1, x2) < x:
            low = middle
        else:
            high = middle
    return coordinate((low + high) / 2, y1, y2)


def parse_easing(value: object, path: str = "easing") -> Easing:
    """A name from EASINGS, ``[x1, y1, x2, y2]``, or ``"cubic-bezier(x1, y1, x2, y2)"``."""
    if isinstance(value, Easing):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("cubic-bezier(") and text.endswith(")"):
            try:
                numbers = [float(part) for part in text[len("cubic-bezier(") : -1].split(",")]
            except ValueError:
                raise SpecError(f"{excerpt(value)}: cubic-bezier takes four numbers", path) from None
            return _bezier(numbers, path)
        text = _ALIASES.get(text, text)
        if text in EASINGS:
            return Easing(text)
        names = list(EASINGS) + list(_ALIASES)
        close = difflib.get_close_matches(text, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpecError(
            f"unknown easing {excerpt(value)}; {hint}use one of {', '.join(names)}, or [x1, y1, x2, y2]", path
        )
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise SpecError("a cubic-bezier easing is four numbers [x1, y1, x2, y2]", path)
        return _bezier([float(v) for v in value], path)
    raise SpecError(f"an easing is a name or four numbers, got {type(value).__name__}", path)


def _bezier(numbers: list[float], path: str) -> Easing:
    if len(numbers) != 4:
        raise SpecError(f"a cubic-bezier easing is four numbers [x1, y1, x2, y2], got {len(numbers)}", path)
    if not all(math.isfinite(v) for v in numbers):
        raise SpecError("cubic-bezier numbers must be finite", path)
    x1, y1, x2, y2 = numbers
    if not (0 <= x1 <= 1 and 0 <= x2 <= 1):
        raise SpecError(
            f"cubic-bezier x1 and x2 must be within 0..1 (got {x1:g}, {x2:g}), or time would run backwards", path
        )
    return Easing("cubic-bezier", (x1, y1, x2, y2))
