"""Numbers as a chart prints them: thousands separators, units, compact forms.

    format_value(1850, "kcal")            → "1,850 kcal"
    format_value(42, "%")                 → "42 %"
    format_value(-1250.5, "$", 1)         → "−$1,250.5"
    format_value(12_500, compact=True)    → "12.5k"

Negative numbers take a real minus sign (U+2212), which lines up with the digits; a
value that rounds to zero is never printed as "−0". Currency symbols go before the
number, every other unit after it, separated by a space.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["MINUS", "auto_decimals", "format_number", "format_value"]

MINUS = "\u2212"
#: Units written before the number: "$1,850", not "1,850 $".
PREFIX_UNITS = frozenset({"$", "€", "£", "¥", "₹", "₩", "₽", "₺"})
#: Largest first; a compact number uses the first whose scale it reaches.
_COMPACT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_number(value: float, decimals: int = 0, *, compact: bool = False) -> str:
    """`value` with thousands separators and `decimals` digits, or compact ("12.5k")."""
    if compact and abs(value) >= 1000:
        digits = _compact(abs(value))
    else:
        digits = f"{abs(value):,.{decimals}f}"
    return _signed(value, digits)


def format_value(value: float, unit: str | None = None, decimals: int = 0, *, compact: bool = False) -> str:
    """`value` formatted as `format_number` does, with its unit where it belongs."""
    number = format_number(value, decimals, compact=compact)
    if not unit:
        return number
    if unit in PREFIX_UNITS:
        sign = MINUS if number.startswith(MINUS) else ""
        return f"{sign}{unit}{number.removeprefix(MINUS)}"
    return f"{number} {unit}"


def auto_decimals(values: Iterable[float], limit: int = 2) -> int:
    """The fewest decimals (at most `limit`) that print every value exactly."""
    values = list(values)
    for decimals in range(limit + 1):
        if all(math.isclose(round(v, decimals), v, rel_tol=1e-9, abs_tol=1e-12) for v in values):
            return decimals
    return limit


def _signed(value: float, digits: str) -> str:
    rounds_to_zero = not digits.strip("0.,")
    return digits if value >= 0 or rounds_to_zero else MINUS + digits


def _compact(magnitude: float) -> str:
    """Three significant digits and a suffix: 1,850 → "1.85k", 999,950 → "1M"."""
    for index, (scale, suffix) in enumerate(_COMPACT):
        if magnitude < scale:
            continue
        scaled = magnitude / scale
        text = _three_digits(scaled)
        # Rounding may carry into the next scale: 999,950 is "1M", not "1000k".
        if float(text) >= 1000 and index > 0:
            scale, suffix = _COMPACT[index - 1]
            text = _three_digits(magnitude / scale)
        return text + suffix
    return _three_digits(magnitude)


def _three_digits(number: float) -> str:
    decimals = 2 if number < 10 else 1 if number < 100 else 0
    text = f"{number:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
