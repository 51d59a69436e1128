"""When each part of a chart appears: pure arithmetic on normalised time 0..1.

The reveal is one clock t running linearly from 0 to 1 over the chart's ``reveal``
seconds. Each animated item (a bar, a line, a stack) owns a window [start, end] of
that clock; stagger spreads the starts. Inside its window an item grows along its
own easing curve: at local time τ it has grown to easing(τ) of its length. So the
pixel at fraction f of the item's length appears at τ = easing⁻¹(f), and its reveal
time is ``start + easing⁻¹(f) · (end − start)``. The easing is baked into the map,
so a renderer only compares the map with the linear clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..easing import Easing

__all__ = ["RevealFn", "Timing", "Window", "along", "grow", "rise", "stack", "sweep", "windows"]

Window = tuple[float, float]

_SAMPLES = 4097


def windows(count: int, stagger: float) -> list[Window]:
    """`count` windows within [0, 1]: starts spread evenly over `stagger`, equal lengths."""
    if count <= 1:
        return [(0.0, 1.0)]
    length = 1.0 - stagger
    return [(stagger * i / (count - 1), stagger * i / (count - 1) + length) for i in range(count)]


class Timing:
    """Turns growth fractions into reveal times under one easing curve."""

    def __init__(self, easing: Easing) -> None:
        times = np.linspace(0.0, 1.0, _SAMPLES)
        progress = np.array([easing(float(t)) for t in times])
        # Overshooting curves (back) cannot be shown by a reveal map: a pixel appears
        # once, at the first moment its fraction is reached, so clamp and keep rising.
        progress = np.maximum.accumulate(np.clip(progress, 0.0, 1.0))
        self._progress = progress + times * 1e-9  # strictly increasing for interp
        self._times = times

    def inverse(self, fraction: np.ndarray | float) -> np.ndarray:
        """Local time at which the item has grown to `fraction` (clipped to 0..1)."""
        return np.interp(np.clip(fraction, 0.0, 1.0), self._progress, self._times)

    def at(self, fraction: np.ndarray | float, window: Window) -> np.ndarray:
        """Reveal time of the point at `fraction` of an item revealed over `window`."""
        start, end = window
        return (start + self.inverse(fraction) * (end - start)).astype(np.float32)


# ── reveal maps of shapes: functions of pixel centres (xs: 1×w, ys: h×1) ──────────

RevealFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def grow(timing: Timing, window: Window, base: float, end: float, vertical: bool = True) -> RevealFn:
    """A bar growing from `base` to `end` (pixel coordinates along y, or x)."""
    length = end - base

    def reveal(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        along_bar = ys if vertical else xs
        fraction = (along_bar - base) / length if length else np.ones_like(along_bar)
        return timing.at(fraction, window)

    return reveal


def stack(timing: Timing, window: Window, base: float, top: float, bottom: float) -> RevealFn:
    """A stack growing as a whole: above the baseline up to `top`, below it down to `bottom`."""

    def reveal(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        up = (base - ys) / (base - top) if base != top else np.ones_like(ys)
        down = (ys - base) / (bottom - base) if bottom != base else np.ones_like(ys)
        return timing.at(np.where(ys <= base, up, down), window)

    return reveal


def along(timing: Timing, window: Window, first: float, last: float) -> RevealFn:
    """A line drawn left to right, from x = `first` to x = `last`."""

    def reveal(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        fraction = (xs - first) / (last - first) if last > first else np.zeros_like(xs)
        return timing.at(fraction, window)

    return reveal


def rise(timing: Timing, window: Window, points: Sequence[tuple[float, float]], base: float) -> RevealFn:
    """An area rising from the baseline y = `base` to the curve through `points`,
    every column at the same pace (so the curve grows as a whole, scaled)."""
    px = np.array([p[0] for p in points], np.float64)
    py = np.array([p[1] for p in points], np.float64)

    def reveal(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        span = np.interp(xs, px, py) - base
        flat = np.abs(span) < 0.5  # a column at zero: it is there when the area is
        fraction = np.where(flat, 1.0, (ys - base) / np.where(flat, 1.0, span))
        return timing.at(fraction, window)

    return reveal


def sweep(timing: Timing, window: Window, cx: float, cy: float, turn: float = 1.0, offset: float = 0.0) -> RevealFn:
    """A sweep clockwise from 12 o'clock round (cx, cy) over `turn` of a full turn.

    Angles are measured from `offset` turns before 12 o'clock, so a ring's round
    start cap (just left of 12) is there from the start rather than at the end.
    """

    def reveal(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        angle = np.arctan2(xs - cx, cy - ys) / (2 * np.pi)  # clockwise from up, −½..½
        turns = np.mod(angle + offset, 1.0) - offset
        return timing.at(turns / turn, window)

    return reveal
