""" "Nice" axis ticks: steps of 1, 2, 2.5 or 5 × 10^k that cover the data.

    nice_ticks(0, 1850, 4)                     → 0, 500, 1000, 1500, 2000
    nice_ticks(-3.5, 8, 5, include_zero=True)  → −4, −2, 0, 2, 4, 6, 8

The step is the nice number whose tick count comes closest to the target (ties go to
the tighter axis, then to the larger step, which reads more easily). The first and last ticks are multiples of
the step at or beyond the data, so the axis always covers it. Data with no span (or
one below 10⁻¹² of its values) is given some: a single value 0 becomes 0..1, any other
an interval around it (or from zero, for charts whose axis includes zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Ticks", "nice_ticks"]

_MANTISSAS = (1.0, 2.0, 2.5, 5.0)
# Relative slack for floating-point noise when deciding which multiple of a step a value
# is (1500 / 500 may come out as 3.0000000000000004).
_EPS = 1e-9
# Spans (relative to the values) and values below this count as none: a chart cannot
# label differences of one part in 10¹², and steps of 10⁻³⁰⁰ would underflow.
_TINY = 1e-12


@dataclass(frozen=True)
class Ticks:
    """Tick values from low to high, their common step, and the decimals that print them."""

    values: tuple[float, ...]
    step: float
    decimals: int

    @property
    def lo(self) -> float:
        return self.values[0]

    @property
    def hi(self) -> float:
        return self.values[-1]


def nice_ticks(lo: float, hi: float, target: int = 5, *, include_zero: bool = False) -> Ticks:
    """Ticks covering lo..hi with about `target` intervals (at least 1)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"ticks need finite bounds, got {lo!r}..{hi!r}")
    lo, hi = min(lo, hi), max(lo, hi)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < _TINY * max(1.0, abs(lo), abs(hi)):
        lo, hi = _widen((lo + hi) / 2)
    target = max(1, int(target))
    mantissa, exponent = _nice_step(lo, hi, target)
    step = _scaled(mantissa, exponent)
    first, last = _floor(lo / step), _ceil(hi / step)
    # The rounding slack scales with the ratio, so far from zero a span much smaller
    # than the value (-1e9..-999999999) can land on one tick: an axis needs two.
    last = max(last, first + 1)
    values = tuple(_clean(_scaled(i * mantissa, exponent)) for i in range(first, last + 1))
    decimals = max(0, -exponent + (1 if mantissa == 2.5 else 0))
    return Ticks(values, step, decimals)


def _widen(value: float) -> tuple[float, float]:
    """An interval around a single value (the data has no span)."""
    if abs(value) < _TINY:
        return 0.0, 1.0
    pad = 10.0 ** math.floor(math.log10(abs(value)))
    return value - pad, value + pad


def _floor(ratio: float) -> int:
    return math.floor(ratio + _EPS * abs(ratio))


def _ceil(ratio: float) -> int:
    return math.ceil(ratio - _EPS * abs(ratio))


def _intervals(lo: float, hi: float, step: float) -> int:
    return _ceil(hi / step) - _floor(lo / step)


def _covered(lo: float, hi: float, step: float) -> float:
    return _intervals(lo, hi, step) * step


def _nice_step(lo: float, hi: float, target: int) -> tuple[float, int]:
    """(mantissa, exponent) of the step: closest to the target count; on a tie the
    tighter axis, then the larger step."""
    raw = (hi - lo) / target
    exponent = math.floor(math.log10(raw))
    candidates = [(m, k) for k in (exponent - 1, exponent, exponent + 1) for m in _MANTISSAS]

    def badness(candidate: tuple[float, int]) -> tuple[int, float, float]:
        step = _scaled(*candidate)
        return abs(_intervals(lo, hi, step) - target), _covered(lo, hi, step), -step

    return min(candidates, key=badness)


def _scaled(multiple: float, exponent: int) -> float:
    """multiple × 10^exponent, correctly rounded: 3 × 10⁻¹ is 0.3, not 0.30000000000000004."""
    return multiple * 10.0**exponent if exponent >= 0 else multiple / 10.0**-exponent


def _clean(value: float) -> float:
    return 0.0 if value == 0 else value  # no "-0.0" tick
