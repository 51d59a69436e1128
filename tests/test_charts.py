"""engine/charts drawing: every type in every box shape, the reveal map's promises, goldens.

A `ChartRaster` shows ``image`` where ``reveal <= t`` and ``base`` elsewhere, so the
animated parts of a chart are exactly the pixels where the two differ. The tests
below check what the renderer will show at clock t through `ChartRaster.at`.

Goldens (tests/golden/charts/, from the CPU path with the bundled fonts) are each
chart finished, laid over the default slide background. After a deliberate change
to the look, regenerate them with ``pytest tests/test_charts.py --regenerate-golden``
and review the PNGs before committing; a failure writes ``*.actual.png`` and
``*.diff.png`` next to the reference.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest

from engine.charts import CHART_TYPES, ChartRaster, draw_chart, parse_chart
from engine.charts.axes import categories, inner_box
from engine.charts.canvas import Canvas
from engine.charts.format import MINUS
from engine.charts.palette import OKABE_ITO, series_colours
from engine.charts.reveal import Timing, windows
from engine.charts.style import Style
from engine.easing import Easing
from engine.spec import Theme
from engine.text.typeface import resolve_fonts

from .helpers import compare_with_golden

GOLDEN = Path(__file__).parent / "golden" / "charts"
FONTS = resolve_fonts(Theme())
TEXT = (255, 255, 255)
ACCENT = (255, 176, 32)
SKY = OKABE_ITO[1]
BACKGROUND = (20, 22, 27)
SHAPES = {"16x9": (320, 180), "9x16": (180, 320), "1x1": (240, 240)}

SAMPLES = {
    "bar": {
        "type": "bar",
        "labels": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "values": [1850, 2100, 1720, 1990, 2300, 2650, 1500],
        "unit": "kcal",
    },
    "hbar": {
        "type": "hbar",
        "labels": ["Breakfast", "Morning snack", "Lunch", "Afternoon snack", "Dinner"],
        "values": [540, 180, 780, 150, 650],
        "unit": "kcal",
    },
    "stacked_bar": {
        "type": "stacked_bar",
        "labels": ["Mon", "Tue", "Wed", "Thu"],
        "series": [
            {"name": "Protein", "values": [480, 520, 450, 500]},
            {"name": "Carbs", "values": [900, 1000, 850, 950]},
            {"name": "Fat", "values": [470, 580, 420, 540]},
        ],
        "unit": "kcal",
    },
    "line": {
        "type": "line",
        "labels": ["Jan", "Feb", "Mar", "Apr", "May", "Jun"],
        "series": [
            {"name": "Weight", "values": [82.4, 81.6, 80.9, 80.1, 79.5, 78.8]},
            {"name": "Goal", "values": [82, 81, 80, 79, 78, 77]},
        ],
        "unit": "kg",
    },
    "area": {
        "type": "area",
        "labels": ["6am", "9am", "12pm", "3pm", "6pm", "9pm"],
        "values": [200, 650, 1300, 1500, 2100, 2250],
        "unit": "kcal",
    },
    "pie": {"type": "pie", "labels": ["Protein", "Carbohydrates", "Fat"], "values": [25, 50, 25], "unit": "%"},
    "donut": {
        "type": "donut",
        "labels": ["Breakfast", "Lunch", "Dinner", "Snacks"],
        "values": [540, 780, 650, 330],
        "unit": "kcal",
    },
    "kpi": {"type": "kpi", "value": 1850, "unit": "kcal", "label": "Average per day", "progress": 0.82, "delta": -3.5},
}
# Harder data for the smoke tests: negatives, one value, crowded and long labels.
EXTRA = {
    "bar-negative": {"type": "bar", "labels": ["Q1", "Q2", "Q3", "Q4"], "values": [12.5, -4.25, 8, -10], "unit": "%"},
    "bar-grouped": {
        "type": "bar",
        "labels": ["Protein", "Carbs", "Fat"],
        "series": [{"name": "Plan", "values": [120, 250, 70]}, {"name": "Actual", "values": [105, 280, 82]}],
    },
    "bar-crowded": {"type": "bar", "labels": [f"Category number {i}" for i in range(24)], "values": list(range(24))},
    "bar-huge": {"type": "bar", "labels": ["a", "b"], "values": [1e12, 3.3e12], "unit": "$"},
    "hbar-negative": {"type": "hbar", "labels": ["a", "b"], "values": [-5, 10], "unit": "servings"},
    "hbar-crowded": {"type": "hbar", "labels": [f"Item {i}" for i in range(24)], "values": list(range(1, 25))},
    "hbar-grouped": {
        "type": "hbar",
        "labels": ["Protein", "Carbs", "Fat"],
        "series": [{"name": "Plan", "values": [120, 250, 70]}, {"name": "Actual", "values": [105, 280, 82]}],
        "unit": "g",
    },
    "stacked-negative": {
        "type": "stacked_bar",
        "labels": ["a", "b"],
        "series": [{"name": "x", "values": [5, -3]}, {"name": "y", "values": [-2, 4]}],
    },
    "line-one-point": {"type": "line", "labels": ["only"], "values": [3]},
    "line-long": {
        "type": "line",
        "labels": [str(i) for i in range(120)],
        "values": [(i * 37) % 23 for i in range(120)],
    },
    "line-all-values": {**SAMPLES["line"], "show_values": True},
    "area-negative": {"type": "area", "labels": ["a", "b", "c"], "values": [-1, 2, -3]},
    "area-two": {
        "type": "area",
        "labels": ["a", "b", "c"],
        "series": [{"name": "x", "values": [0, 0, 1]}, {"name": "y", "values": [1, 2, 3]}],
    },
    "pie-one-slice": {"type": "pie", "labels": ["all"], "values": [5]},
    "donut-eight": {"type": "donut", "labels": list("abcdefgh"), "values": [1, 1, 1, 1, 1, 1, 1, 100]},
    "kpi-plain": {"type": "kpi", "value": 12500, "label": "Steps today", "delta": 12},
    "kpi-full": {"type": "kpi", "value": 1234567.891, "unit": "steps", "progress": 1, "delta": 0, "label": "x " * 40},
    "kpi-empty": {"type": "kpi", "value": 0, "progress": 0},
}


def _draw(spec: dict, size=(320, 180), **kw) -> ChartRaster:
    return draw_chart(parse_chart(spec), *size, fonts=FONTS, text_rgb=TEXT, accent_rgb=ACCENT, **kw)


def _animated(raster: ChartRaster) -> np.ndarray:
    """Pixels of animated parts: where the finished chart differs from its static layer."""
    return np.any(raster.image != raster.base, axis=2)


def _runs(indices: np.ndarray) -> list[np.ndarray]:
    """Consecutive runs in sorted indices: the columns (or rows) of each bar."""
    return np.split(indices, np.flatnonzero(np.diff(indices) > 1) + 1)


def _is_contiguous(rows: np.ndarray) -> bool:
    return rows.size == 0 or rows.max() - rows.min() + 1 == rows.size


def _covers(image: np.ndarray, rgb) -> np.ndarray:
    """Opaque pixels of exactly this colour (shape interiors)."""
    return (image[..., 3] == 255) & np.all(image[..., :3] == rgb, axis=2)


# ── every type in every box shape ─────────────────────────────────────────────────


ALL = {**SAMPLES, **EXTRA}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("name", list(ALL))
def test_every_chart_draws_inside_its_box(name, shape, caplog):
    size = SHAPES[shape]
    with caplog.at_level(logging.WARNING, logger="engine.charts"):
        raster = _draw(ALL[name], size)
    width, height = size
    assert raster.image.shape == raster.base.shape == (height, width, 4)
    assert raster.image.dtype == raster.base.dtype == np.uint8
    assert raster.reveal.shape == (height, width) and raster.reveal.dtype == np.float32
    assert 0 <= raster.reveal.min() and raster.reveal.max() <= 1
    alpha = raster.image[..., 3]
    assert (alpha > 0).mean() > 0.02, "hardly anything was drawn"
    border = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert border.max() == 0, "ink on the box's edge: the layout let something out"
    # No ink is cut; a text cut to fit (only where the data cannot fit) is said once.
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("engine.charts")]
    assert [w for w in warnings if "text(s) cut" in w] == (warnings[:1] if raster.texts.cut else []), warnings
    assert len(warnings) <= 1, warnings
    if name in SAMPLES:
        assert not raster.texts.cut


@pytest.mark.parametrize("name", list(ALL))
def test_animated_parts_exist_and_the_rest_is_there_from_the_start(name):
    raster = _draw(ALL[name])
    animated = _animated(raster)
    if name == "kpi-plain":  # no ring: nothing to animate
        assert not animated.any()
    elif name != "kpi-empty":
        assert animated.any()
    assert np.array_equal(raster.at(1.0), raster.image)
    start = raster.at(0.0)
    still = raster.reveal == 0
    assert np.array_equal(start[still], raster.image[still])
    assert np.array_equal(start[~still], raster.base[~still])
    transparent, bare = raster.image[..., 3] == 0, raster.base[..., 3] == 0
    assert np.all(raster.reveal[transparent & bare] == 0), "a transparent pixel has a reveal time"
    assert np.all(raster.reveal[transparent & ~bare] > 0), "static ink the image lacks must vanish at some time"


def test_every_chart_type_has_a_sample():
    assert set(SAMPLES) == set(CHART_TYPES)


def test_raster_clock_runs_over_the_reveal_seconds():
    raster = _draw({**SAMPLES["bar"], "reveal": 2.0})
    assert raster.seconds == 2.0
    assert [raster.clock(s) for s in (-1, 0, 1, 2, 5)] == [0, 0, 0.5, 1, 1]
    assert _draw({**SAMPLES["bar"], "reveal": 0}).clock(0) == 1.0


def test_draw_chart_refuses_a_box_too_small_to_read():
    with pytest.raises(ValueError, match="at least"):
        _draw(SAMPLES["bar"], (40, 300))


# ── reveal: bars ──────────────────────────────────────────────────────────────────

TIMES = np.linspace(0.0, 1.0, 41)


@pytest.mark.parametrize("easing", ["ease-out-cubic", "linear", "ease-in-out-back"])
def test_bar_pixels_shown_grow_monotonically_to_the_full_bars(easing):
    spec = {"type": "bar", "labels": list("abcd"), "values": [3, -2, 5, 1], "show_values": False, "easing": easing}
    raster = _draw(spec)
    bars = _animated(raster)
    counts = [int((bars & (raster.reveal <= t)).sum()) for t in TIMES]
    assert all(b >= a for a, b in itertools.pairwise(counts))
    assert counts[-1] == bars.sum()
    assert counts[0] <= 0.02 * bars.sum()
    assert counts[len(TIMES) // 2] < bars.sum()  # mid-way, still growing


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_bar_shown_at_any_time_is_one_piece_from_the_baseline(shape):
    values = [3, -2, 5, 1, -4]
    raster = _draw({"type": "bar", "labels": list("abcde"), "values": values, "show_values": False}, SHAPES[shape])
    bars = _animated(raster)
    columns = _runs(np.flatnonzero(bars.any(axis=0)))
    assert len(columns) == len(values)
    for t in TIMES:
        shown = bars & (raster.reveal <= t)
        for value, bar_columns in zip(values, columns):
            for x in bar_columns:
                rows = np.flatnonzero(bars[:, x])
                visible = np.flatnonzero(shown[:, x])
                assert _is_contiguous(visible), f"a gap in bar {value} at t={t}"
                if visible.size:  # anchored at the baseline: the bottom of a positive bar, the top of a negative
                    assert (visible.max() == rows.max()) if value > 0 else (visible.min() == rows.min())


def test_bars_are_staggered_left_to_right():
    raster = _draw(
        {"type": "bar", "labels": list("abcd"), "values": [4, 4, 4, 4], "show_values": False, "easing": "linear"}
    )
    bars = _animated(raster)
    columns = _runs(np.flatnonzero(bars.any(axis=0)))
    starts = [raster.reveal[:, c][bars[:, c]].min() for c in columns]
    ends = [raster.reveal[:, c][bars[:, c]].max() for c in columns]
    assert starts == sorted(starts) and starts[0] < starts[1]
    assert ends == sorted(ends) and ends[-1] > 0.98


def test_value_labels_appear_when_their_bar_is_full():
    raster = _draw({"type": "bar", "labels": ["a", "b"], "values": [2, 5], "stagger": 0.5})
    animated = _animated(raster)
    bar = _covers(raster.image, ACCENT)
    label = animated & ~bar & (raster.image[..., 3] > 128) & np.all(raster.image[..., :3] > 200, axis=2)
    columns = _runs(np.flatnonzero(bar.any(axis=0)))
    for bar_columns, window in zip(columns, windows(2, 0.5)):
        in_columns = np.zeros_like(label)
        in_columns[:, bar_columns] = True
        assert np.allclose(raster.reveal[label & in_columns], window[1])
        assert raster.reveal[bar & in_columns].max() <= window[1] + 1e-6


def test_hbars_grow_left_to_right_from_the_baseline():
    values = [3, -2, 5]
    raster = _draw({"type": "hbar", "labels": list("abc"), "values": values, "show_values": False}, (240, 240))
    bars = _animated(raster)
    rows = _runs(np.flatnonzero(bars.any(axis=1)))
    assert len(rows) == len(values)
    for t in (0.2, 0.5, 0.8):
        shown = bars & (raster.reveal <= t)
        for value, bar_rows in zip(values, rows):
            for y in bar_rows:
                columns = np.flatnonzero(bars[y])
                visible = np.flatnonzero(shown[y])
                assert _is_contiguous(visible)
                if visible.size:
                    assert (visible.min() == columns.min()) if value > 0 else (visible.max() == columns.max())


def test_stacked_segments_appear_in_series_order():
    spec = {
        "type": "stacked_bar",
        "labels": ["a", "b"],
        "series": [{"name": "low", "values": [2, 3]}, {"name": "high", "values": [3, 1]}],
        "show_values": False,
    }
    raster = _draw(spec, (240, 240))
    low, high = _covers(raster.image, ACCENT), _covers(raster.image, SKY)
    assert low.any() and high.any()
    for t in TIMES:
        shown = raster.reveal <= t
        for columns in _runs(np.flatnonzero(low.any(axis=0))):
            part = np.zeros_like(low)
            part[:, columns] = True
            if (high & part & shown).any():
                assert (low & part & ~shown).sum() == 0, f"a higher segment shows before the lower one is full (t={t})"


# ── reveal: lines, areas, pies, the kpi ring ──────────────────────────────────────


def test_a_line_at_half_time_covers_only_the_left_part():
    spec = {"type": "line", "labels": list("abcdef"), "values": [1, 3, 2, 5, 4, 6], "easing": "linear"}
    raster = _draw({**spec, "show_values": False})
    line = _animated(raster)
    xs = np.flatnonzero(line.any(axis=0))
    middle = (xs.min() + xs.max() + 1) / 2
    shown = line & (raster.reveal <= 0.5)
    shown_xs = np.flatnonzero(shown.any(axis=0))
    assert shown_xs.size and shown_xs.min() == xs.min()
    assert shown_xs.max() + 0.5 <= middle + 1
    assert shown.sum() < line.sum()


def test_later_series_of_a_line_chart_start_later():
    raster = _draw({**SAMPLES["line"], "show_values": False, "easing": "linear"})
    animated = _animated(raster)  # not the legend's swatches
    first, second = _covers(raster.image, ACCENT) & animated, _covers(raster.image, SKY) & animated
    assert raster.reveal[first].min() < raster.reveal[second].min()


def test_an_area_rises_from_the_baseline_in_every_column():
    spec = {"type": "area", "labels": list("abcde"), "values": [2, 5, 3, 6, 4], "show_values": False}
    raster = _draw(spec, (240, 240))
    area = _animated(raster)
    for t in (0.25, 0.5, 0.75):
        shown = area & (raster.reveal <= t)
        for x in np.flatnonzero(area.any(axis=0)):
            rows, visible = np.flatnonzero(area[:, x]), np.flatnonzero(shown[:, x])
            assert _is_contiguous(visible)
            if visible.size:
                assert visible.max() == rows.max()


@pytest.mark.parametrize("kind", ["pie", "donut"])
def test_a_pie_at_a_quarter_shows_only_its_top_right_quarter(kind):
    spec = {"type": kind, "labels": list("abc"), "values": [1, 1, 2], "easing": "linear"}
    raster = _draw(spec, (240, 240))
    pie = _animated(raster)
    ys, xs = np.nonzero(pie)
    cx, cy = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    shown_ys, shown_xs = np.nonzero(pie & (raster.reveal <= 0.25))
    assert shown_xs.size
    assert (shown_xs + 0.5 >= cx - 1).all() and (shown_ys + 0.5 <= cy + 1).all()
    assert abs(shown_xs.size / pie.sum() - 0.25) < 0.03


def test_a_pie_sweeps_clockwise_from_twelve():
    raster = _draw({**SAMPLES["pie"], "easing": "linear"}, (240, 240))
    pie = _animated(raster)
    ys, xs = np.nonzero(pie)
    cx, cy = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    r = (xs.max() - xs.min()) / 2
    clock = {  # points halfway out at 12, 3, 6 and 9 o'clock (just past each)
        "12": (cx + 2, cy - r / 2),
        "3": (cx + r / 2, cy + 2),
        "6": (cx - 2, cy + r / 2),
        "9": (cx - r / 2, cy - 2),
    }
    times = [raster.reveal[int(y), int(x)] for x, y in clock.values()]
    assert times == sorted(times) and times[0] < 0.05 and times[-1] > 0.7


def test_the_kpi_ring_fills_clockwise_up_to_its_progress():
    spec = {"type": "kpi", "value": 50, "unit": "%", "progress": 0.5, "easing": "linear"}
    raster = _draw(spec, (240, 240))
    ring = _animated(raster)
    _ys, xs = np.nonzero(ring)
    cx = 120  # the ring is centred in the box
    thickness = 240 * 0.085
    assert (xs + 0.5 >= cx - thickness / 2 - 1).all(), "a half-full ring lies in the right half (and its start cap)"
    early_ys, early_xs = np.nonzero(ring & (raster.reveal <= 0.25))
    assert (early_ys < 120 + thickness).all(), "by a quarter of the time, only the top right quarter"
    assert early_xs.size and ring.sum() > early_xs.size


def test_reveal_windows_and_eased_growth():
    assert windows(1, 0.35) == [(0.0, 1.0)]
    assert np.allclose(windows(3, 0.4), [(0.0, 0.6), (0.2, 0.8), (0.4, 1.0)])
    timing = Timing(Easing("ease-out-cubic"))
    fractions = np.linspace(0, 1, 11)
    times = timing.at(fractions, (0.2, 0.8))
    assert times[0] == pytest.approx(0.2) and times[-1] == pytest.approx(0.8, abs=2e-3)
    assert np.all(np.diff(times) > 0)
    # Ease-out grows fast first: half the bar is up well before half the window.
    assert times[5] < 0.5


# ── design decisions ──────────────────────────────────────────────────────────────


def _static_colour(raster: ChartRaster) -> np.ndarray:
    """Static pixels in a saturated colour: only a legend's swatches are both."""
    rgb = raster.image[..., :3].astype(int)
    saturated = (rgb.max(axis=2) - rgb.min(axis=2) > 60) & (raster.image[..., 3] > 200)
    return saturated & ~_animated(raster)


@pytest.mark.parametrize("kind", ["bar", "line", "area", "hbar"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_legend_appears_only_with_several_series(kind, shape):
    values = [1, 1.5, 1.2, 1.4]
    one = {"type": kind, "labels": list("abcd"), "values": values}
    two = {
        "type": kind,
        "labels": list("abcd"),
        "series": [{"name": "a", "values": values}, {"name": "b", "values": values}],
    }
    assert not _static_colour(_draw(one, SHAPES[shape])).any()
    legend = _static_colour(_draw(two, SHAPES[shape]))
    assert legend.any()
    assert np.flatnonzero(legend.any(axis=1)).max() < SHAPES[shape][1] * 0.2, "the legend sits at the top"


def test_the_first_colour_follows_the_theme_accent():
    raster = _draw(SAMPLES["bar"])
    assert _covers(raster.image, ACCENT).sum() > 500
    plain = draw_chart(parse_chart(SAMPLES["bar"]), 320, 180, fonts=FONTS, text_rgb=TEXT)
    assert _covers(plain.image, OKABE_ITO[0]).sum() > 500


def test_the_palette_skips_colours_like_the_accent_or_lost_on_the_background():
    colours = series_colours(4, accent=(230, 150, 10))
    assert colours[0] == (230, 150, 10) and OKABE_ITO[0] not in colours
    on_white = series_colours(8, background=(255, 255, 255))
    assert OKABE_ITO[3] not in on_white  # yellow on white
    assert len(set(series_colours(8, accent=ACCENT, background=BACKGROUND))) == 8


def test_chart_colours_override_the_palette_in_order():
    raster = _draw({**SAMPLES["bar"], "colors": ["#00ff00"]})
    assert _covers(raster.image, (0, 255, 0)).sum() > 500 and not _covers(raster.image, ACCENT).any()


def _style(spec: dict, size) -> tuple[Style, Canvas]:
    chart = parse_chart(spec)
    style = Style(chart, FONTS, TEXT, ACCENT, None, float(min(size)), Timing(chart.easing_curve))
    return style, Canvas(*size)


def test_long_category_labels_wrap_to_two_lines_then_turn_when_crowded():
    style, canvas = _style(SAMPLES["bar"], (640, 360))
    box = inner_box(canvas, style)
    wrapped = categories(style, ["Afternoon snack", "Dinner"], 90, box, 100)
    assert not wrapped.angle and [len(label.lines) for label in wrapped.labels] == [2, 1]
    crowded = categories(style, [f"Category number {i}" for i in range(20)], 24, box, 60)
    assert crowded.angle in (45, 90)


def test_hbar_labels_move_above_their_bars_in_portrait():
    spec = {**SAMPLES["hbar"], "show_values": False}
    for size, above in (((320, 180), False), ((180, 320), True)):
        raster = _draw(spec, size)
        bars = _animated(raster)
        first_rows = _runs(np.flatnonzero(bars.any(axis=1)))[0]
        bar_left = np.flatnonzero(bars[first_rows].any(axis=0)).min()
        text = raster.base[..., 3] > 128
        beside = text[first_rows, : max(0, bar_left - 2)].any()
        over = text[max(0, first_rows[0] - 12) : first_rows[0], bar_left : bar_left + 40].any()
        assert (beside, over) == (not above, above), size


def test_value_labels_carry_separators_and_the_unit_only_where_the_ticks_do():
    from engine.charts.axes import value_labels, value_texts

    style, _ = _style(SAMPLES["bar"], (1280, 720))  # "kcal": the chart's caption says it
    assert value_texts(style, [1850, 2100.5]) == ["1,850", "2,100.5"]
    wide, narrow = value_labels(style, [1850, 2100], 400), value_labels(style, [1850, 2100], 80)
    assert [label.lines[0] for label in wide] == [label.lines[0] for label in narrow] == ["1,850", "2,100"]
    assert narrow[0].size < wide[0].size and narrow[0].width + 0.5 * narrow[0].size <= 80
    assert value_labels(style, [1850], 2) is None  # does not fit at all: not shown
    percent, _ = _style(EXTRA["bar-negative"], (320, 180))
    assert value_texts(percent, [12.5, -4.25]) == ["12.5 %", f"{MINUS}4.25 %"]
    huge, _ = _style(EXTRA["bar-huge"], (320, 180))
    assert value_texts(huge, [1e12, 3.3e12]) == ["$1T", "$3.3T"]


# ── goldens (tolerances in tests/helpers.py) ─────────────────────────────────────


def _over_background(image: np.ndarray) -> np.ndarray:
    alpha = image[..., 3:4].astype(np.float32) / 255.0
    out = image[..., :3] * alpha + np.array(BACKGROUND, np.float32) * (1 - alpha)
    return np.rint(out).astype(np.uint8)


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", list(SAMPLES))
def test_chart_matches_its_golden(kind, shape, request):
    frame = _over_background(_draw(SAMPLES[kind], SHAPES[shape]).image)
    compare_with_golden(frame, GOLDEN / f"{kind}-{shape}.png", request)


# ── value labels: one format per chart, clear of gridlines and of each other ──────

MEAL_PLAN_BARS = {  # examples/meal-plan.json's calories chart: every label near the 2,000 gridline
    "type": "bar",
    "labels": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "values": [1850, 1860, 1810, 1860, 1790, 1860, 1920],
    "unit": "kcal",
}
#: The chart boxes examples/meal-plan.json's chart slide gets on youtube, instagram_feed and tiktok.
SLIDE_BOXES = {"16x9": (1640, 717), "1x1": (884, 717), "9x16": (791, 1110)}


def _label_boxes(raster: ChartRaster) -> list[tuple[int, int, int, int]]:
    """Ink boxes (left, top, right, bottom; inclusive) of the value labels above the bars,
    read from the pixels: white, animated, over each bar's slot."""
    animated = _animated(raster)
    bar = _covers(raster.image, ACCENT) & animated
    ink = animated & (raster.image[..., 3] > 0) & np.all(raster.image[..., :3] > 200, axis=2)
    columns = _runs(np.flatnonzero(bar.any(axis=0)))
    centres = [(c[0] + c[-1]) / 2 for c in columns]
    pitch = centres[1] - centres[0]
    boxes = []
    for centre, bar_columns in zip(centres, columns):
        top = np.flatnonzero(bar[:, bar_columns].any(axis=1)).min()
        area = np.zeros_like(ink)
        area[:top, max(0, round(centre - pitch / 2)) : round(centre + pitch / 2)] = True
        ys, xs = np.nonzero(ink & area)
        boxes.append((xs.min(), ys.min(), xs.max(), ys.max()))
    return boxes


def _gridline_rows(raster: ChartRaster) -> np.ndarray:
    """Rows the static layer draws a gridline across (most of the plot's width)."""
    bar = _covers(raster.image, ACCENT)
    columns = np.flatnonzero(bar.any(axis=0))
    plot = raster.base[:, columns.min() : columns.max() + 1, 3] > 0
    return np.flatnonzero(plot.mean(axis=1) > 0.5)


@pytest.mark.parametrize("values", [MEAL_PLAN_BARS["values"], [1850, 1860, 1810, 1920]], ids=["week", "four"])
@pytest.mark.parametrize("shape", list(SLIDE_BOXES))
def test_no_gridline_crosses_a_value_label_and_neighbours_keep_a_gap(shape, values):
    spec = {**MEAL_PLAN_BARS, "labels": MEAL_PLAN_BARS["labels"][: len(values)], "values": values}
    raster = _draw(spec, SLIDE_BOXES[shape])
    boxes = _label_boxes(raster)
    assert len(boxes) == len(values)
    # A gridline shows through a label where the static layer's ink stays for good.
    static_ink = (raster.reveal == 0) & (raster.base[..., 3] > 0)
    rows = _gridline_rows(raster)
    crossings = [
        (left, row)
        for left, top, right, bottom in boxes
        for row in rows
        if top <= row <= bottom and static_ink[row, left : right + 1].any()
    ]
    assert len(rows) >= 3 and not crossings, f"gridlines cross value labels at (left, row) {crossings}"
    gaps = [b[0] - a[2] - 1 for a, b in itertools.pairwise(boxes)]
    assert raster.texts.value_size and min(gaps) >= 0.5 * raster.texts.value_size, (gaps, raster.texts.value_size)


@pytest.mark.parametrize(
    "spec, expected",
    [
        (MEAL_PLAN_BARS, ("1,850", "1,860", "1,810", "1,860", "1,790", "1,860", "1,920")),
        (SAMPLES["hbar"], ("540", "180", "780", "150", "650")),
        (EXTRA["bar-negative"], ("12.5 %", f"{MINUS}4.25 %", "8 %", f"{MINUS}10 %")),
        (EXTRA["bar-huge"], ("$1T", "$3.3T")),
    ],
    ids=["kcal", "hbar", "percent", "huge"],
)
def test_value_labels_read_the_same_in_every_box_shape(spec, expected):
    """One number format per chart, from its data and unit: the box sets only the size.
    (The calories chart used to say "1,850 kcal", "1,850" and "1.85k" in its slide boxes.)"""
    boxes = [(1920, 1080), (1080, 1080), (1080, 1920)]
    if spec is MEAL_PLAN_BARS:
        boxes += SLIDE_BOXES.values()
    drawn = {size: _draw(spec, size).texts for size in boxes}
    assert {texts.values for texts in drawn.values()} == {expected}, {s: t.values for s, t in drawn.items()}


# ── long names: wrapped, turned sideways, or cut and said so ─────────────────────

MEALS = {
    "type": "bar",
    "labels": [
        "Overnight oats",
        "Spinach omelette",
        "Banana smoothie",
        "Avocado toast",
        "Muesli with pear",
        "Buckwheat pancakes",
        "Shakshuka bread",
        "Chickpea salad",
        "Lentil soup",
        "Tuna wrap",
        "Quinoa tabbouleh",
        "Falafel plate",
    ],
    "values": [420, 450, 390, 430, 410, 480, 520, 560, 520, 540, 580, 620],
    "unit": "kcal",
}


def test_a_donut_legend_gives_each_name_whole_in_a_square_slide(caplog):
    spec = {"type": "donut", "labels": ["Carbohydrates", "Protein", "Fat"], "values": [50, 22, 28], "unit": "%"}
    with caplog.at_level(logging.WARNING, logger="engine.charts"):
        raster = _draw(spec, (884, 620))  # its box on instagram_feed
    assert raster.texts.legend == ("Carbohydrates", "Protein", "Fat") and not raster.texts.cut
    assert not caplog.records


def test_a_legend_name_too_long_for_a_line_wraps_before_it_is_cut():
    names = ["Complex carbohydrates from grains", "Protein", "Fat"]
    raster = _draw({"type": "pie", "labels": names, "values": [50, 22, 28]}, (360, 360))
    assert raster.texts.legend == tuple(names) and not raster.texts.cut
    series = [{"name": "Planned daily intake of calories", "values": [1, 2]}, {"name": "Actual", "values": [2, 1]}]
    lines = _draw({"type": "line", "labels": ["a", "b"], "series": series}, (240, 240)).texts
    assert lines.legend == ("Planned daily intake of calories", "Actual") and not lines.cut


def test_a_bar_chart_whose_labels_would_be_turned_and_cut_turns_sideways(caplog):
    with caplog.at_level(logging.WARNING, logger="engine.charts"):
        raster = _draw(MEALS, SLIDE_BOXES["1x1"])
    bars = _covers(raster.image, ACCENT) & _animated(raster)
    assert len(_runs(np.flatnonzero(bars.any(axis=1)))) == len(MEALS["labels"]), "one row of pixels per bar"
    assert raster.texts.kind == "hbar" and raster.texts.categories == tuple(MEALS["labels"])
    assert not raster.texts.cut and not caplog.records
    # Where turned labels read whole, the columns stay.
    assert _draw({**MEALS, "labels": [f"Day {i}" for i in range(12)]}, SLIDE_BOXES["1x1"]).texts.kind == "bar"


def test_a_label_still_cut_is_reported_as_a_warning(caplog):
    spec = {
        "type": "bar",
        "labels": [f"A rather long category number {i}" for i in range(24)],
        "values": list(range(24)),
    }
    with caplog.at_level(logging.WARNING, logger="engine.charts"):
        raster = _draw(spec, (320, 180))
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("engine.charts")]
    assert len(warnings) == 1 and "cut to fit the 320×180 box" in warnings[0] and "A rather long" in warnings[0]
    assert raster.texts.cut
