"""engine/charts ticks and number formats: nice axis steps, separators, units, compact forms."""

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.charts.format import MINUS, auto_decimals, format_number, format_value
from engine.charts.ticks import nice_ticks

# ── ticks ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "lo,hi,target,include_zero,expected",
    [
        (0, 1850, 4, False, [0, 500, 1000, 1500, 2000]),
        (120, 2650, 5, True, [0, 500, 1000, 1500, 2000, 2500, 3000]),
        (0, 100, 4, False, [0, 25, 50, 75, 100]),
        (0, 1, 5, False, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (78.8, 82.4, 4, False, [78, 79, 80, 81, 82, 83]),
        (-3.5, 8, 5, True, [-4, -2, 0, 2, 4, 6, 8]),
        (-120, -3, 4, True, [-125, -100, -75, -50, -25, 0]),
        (-10, 12.5, 4, False, [-10, -5, 0, 5, 10, 15]),
    ],
)
def test_nice_ticks_known_cases(lo, hi, target, include_zero, expected):
    assert list(nice_ticks(lo, hi, target, include_zero=include_zero).values) == pytest.approx(expected)


def test_ticks_of_negative_data_for_bars_end_at_zero():
    ticks = nice_ticks(-40, -5, 4, include_zero=True)
    assert ticks.hi == 0 and ticks.lo <= -40


def test_ticks_of_zero_span_data_get_a_span():
    assert list(nice_ticks(0, 0).values) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    single = nice_ticks(5, 5, 4)
    assert single.lo < 5 < single.hi
    assert nice_ticks(5, 5, 4, include_zero=True).lo == 0


def test_ticks_print_with_the_decimals_of_their_step():
    assert nice_ticks(0, 10, 4).decimals == 1  # step 2.5
    assert nice_ticks(0, 1, 4).decimals == 2  # step 0.25
    assert nice_ticks(0, 2000, 4).decimals == 0
    # No floating-point noise in the values themselves: 0.1 + 0.2 is 0.3 here.
    assert 0.3 in nice_ticks(0.1, 0.6, 5).values


def test_ticks_never_show_a_negative_zero():
    assert all(math.copysign(1, v) > 0 for v in nice_ticks(-1, 1, 4).values if v == 0)


def test_ticks_refuse_non_finite_bounds():
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0, math.inf)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.integers(1, 8),
    st.booleans(),
)
@example(-1e9, -999999999.0, 1, False)  # far from zero, a span of 1 once gave a single tick
def test_ticks_cover_the_data_with_a_nice_step(a, b, target, include_zero):
    lo, hi = min(a, b), max(a, b)
    ticks = nice_ticks(lo, hi, target, include_zero=include_zero)
    assert ticks.lo <= lo + 1e-9 * max(1.0, abs(lo)) and ticks.hi >= hi - 1e-9 * max(1.0, abs(hi))
    if include_zero:
        assert 0.0 in ticks.values
    mantissa = ticks.step / 10 ** math.floor(math.log10(ticks.step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))
    assert 2 <= len(ticks.values) <= 2 * target + 3
    gaps = [b - a for a, b in zip(ticks.values, ticks.values[1:])]
    assert all(math.isclose(g, ticks.step, rel_tol=1e-6) for g in gaps)


# ── formats ───────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "value,unit,decimals,expected",
    [
        (1850, "kcal", 0, "1,850 kcal"),
        (42, "%", 0, "42 %"),
        (1234567.891, None, 2, "1,234,567.89"),
        (-1250.5, "$", 1, f"{MINUS}$1,250.5"),
        (1250, "€", 0, "€1,250"),
        (-3, "kg", 0, f"{MINUS}3 kg"),
        (-0.001, None, 1, "0.0"),  # rounds to zero: no minus sign
        (0.5, None, 0, "0"),  # banker's rounding would say 0 too; what matters is no "−0"
    ],
)
def test_format_value_separates_thousands_and_places_the_unit(value, unit, decimals, expected):
    assert format_value(value, unit, decimals) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (999, "999"),
        (1850, "1.85k"),
        (12_500, "12.5k"),
        (125_000, "125k"),
        (999_950, "1M"),
        (1_250_000, "1.25M"),
        (3.3e12, "3.3T"),
        (-12_500, f"{MINUS}12.5k"),
    ],
)
def test_compact_numbers_keep_three_significant_digits(value, expected):
    assert format_number(value, compact=True) == expected


def test_compact_values_keep_their_unit():
    assert format_value(12_500, "kcal", compact=True) == "12.5k kcal"
    assert format_value(3.3e12, "$", compact=True) == "$3.3T"


def test_auto_decimals_are_the_fewest_that_print_exactly():
    assert auto_decimals([1, 2, 3]) == 0
    assert auto_decimals([1, 2.5]) == 1
    assert auto_decimals([4.25]) == 2
    assert auto_decimals([1 / 3]) == 2  # capped
