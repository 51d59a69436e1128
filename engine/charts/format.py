"""Numbers as a chart prints them: thousands separators, units, compact forms.

    format_value(1850, "kcal")            → "1,850 kcal"
    format_value(42, "%")                 → "42 %"
    format_value(-1250.5, "$", 1)         → "−$1,250.5"
    format_value(12_500, compact=True)    → "12.5k"

Negative numbers take a real minus sign (U+2212), which lines up with the digits; a
value that rounds to zero is never printed as "−0". Currency symbols go before the
number, every other unit after it, separated by a space.

With a `language` (the deck's ``theme.language``, a BCP 47 tag) the digits follow that
locale's CLDR rules through Babel: ``de`` writes 1.850 and 12,5, ``fr`` 1 850, ``hi``
12,34,567, and compact forms are the locale's own (1,85 Mio., 1.25万). Without one, or
for a tag Babel does not know, they are English, as above.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable
from typing import Any

__all__ = ["MINUS", "auto_decimals", "format_number", "format_value"]

MINUS = "\u2212"
#: Units written before the number: "$1,850", not "1,850 $".
PREFIX_UNITS = frozenset({"$", "€", "£", "¥", "₹", "₩", "₽", "₺"})
#: Largest first; a compact number uses the first whose scale it reaches.
_COMPACT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_number(value: float, decimals: int = 0, *, compact: bool = False, language: str | None = None) -> str:
    """`value` with thousands separators and `decimals` digits, or compact ("12.5k"),
    as `language` writes numbers (English without one)."""
    locale = _locale(language) if language else None
    if locale is not None:
        digits = _babel_digits(abs(value), decimals, compact, locale)
    elif compact and abs(value) >= 1000:
        digits = _compact(abs(value))
    else:
        digits = f"{abs(value):,.{decimals}f}"
    rounds_to_zero = not (compact and abs(value) >= 1000) and round(abs(value), decimals) == 0
    return digits if value >= 0 or rounds_to_zero else MINUS + digits


def format_value(
    value: float, unit: str | None = None, decimals: int = 0, *, compact: bool = False, language: str | None = None
) -> str:
    """`value` formatted as `format_number` does, with its unit where it belongs."""
    number = format_number(value, decimals, compact=compact, language=language)
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


@functools.lru_cache(maxsize=32)
def _locale(language: str) -> Any:
    """Babel's locale for a BCP 47 tag (``de``, ``pt-BR``, ``zh-Hant``); None if unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _babel_digits(magnitude: float, decimals: int, compact: bool, locale: Any) -> str:
    from babel.numbers import format_compact_decimal, parse_pattern

    if compact and magnitude >= 1000:
        return str(format_compact_decimal(magnitude, format_type="short", locale=locale, fraction_digits=2))
    pattern = copy.copy(parse_pattern(locale.decimal_formats.get(None)))
    pattern.frac_prec = (decimals, decimals)
    return str(pattern.apply(magnitude, locale))


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
