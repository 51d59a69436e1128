"""Chart slides end to end: spec, layout, the reveal on both compositors, a decoded render."""

from __future__ import annotations

import itertools
import json

import av
import numpy as np
import pytest
from PIL import Image

from engine import load_deck, render, render_frame
from engine.colour import nv12_size
from engine.composite import FrameSpec
from engine.composite.cpu import CPUCompositor
from engine.errors import SpecError
from engine.layout import ChartPlacement
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.timeline import Motion, build_timeline

ACCENT = (255, 176, 32)  # the default theme's accent: the first bar colour
CHARTS = {
    "bar": {"type": "bar", "labels": ["Mon", "Tue", "Wed", "Thu"], "values": [1850, 2100, -300, 1990], "unit": "kcal"},
    "hbar": {"type": "hbar", "labels": ["Breakfast", "Lunch", "Dinner"], "values": [420, 560, 690], "unit": "kcal"},
    "stacked_bar": {
        "type": "stacked_bar",
        "labels": ["Mon", "Tue"],
        "series": [{"name": "Protein", "values": [450, 500]}, {"name": "Carbs", "values": [900, 950]}],
    },
    "line": {
        "type": "line",
        "labels": ["Jan", "Feb", "Mar"],
        "series": [{"name": "Weight", "values": [82, 81, 80]}, {"name": "Goal", "values": [80, 79.5, 79]}],
    },
    "area": {"type": "area", "labels": ["6am", "noon", "6pm"], "values": [200, 1300, 2100]},
    "pie": {"type": "pie", "labels": ["Protein", "Carbs", "Fat"], "values": [25, 50, 25], "unit": "%"},
    "donut": {"type": "donut", "labels": ["Protein", "Carbs", "Fat"], "values": [25, 50, 25], "unit": "%"},
    "kpi": {"type": "kpi", "value": 1850, "unit": "kcal", "label": "a day", "progress": 0.82, "delta": -3.5},
}


def _deck(slides, **extra):
    return load_deck({"slides": slides, **extra})


@pytest.mark.parametrize(
    "slide, path, words",
    [
        (
            {"kind": "chart", "chart": {"type": "bar", "labels": ["a", "b"], "values": [1]}},
            "slides[0].chart.values",
            "2 label(s)",
        ),
        (
            {"kind": "chart", "chart": {"type": "pie", "labels": ["a"], "values": [-1]}},
            "slides[0].chart.values[0]",
            "negative",
        ),
        (
            {"kind": "chart", "chart": {"type": "bars", "labels": ["a"], "values": [1]}},
            "slides[0].chart.type",
            "did you mean 'bar'",
        ),
        ({"kind": "chart"}, "slides[0]", "exactly one of chart"),
        ({"kind": "chart", "chart": CHARTS["bar"], "reveal": "fade"}, "slides[0].reveal", "chart.reveal"),
    ],
)
def test_bad_chart_slides_are_one_line_spec_errors_with_the_path(slide, path, words):
    with pytest.raises(SpecError) as caught:
        _deck([slide])
    assert caught.value.path.startswith(path) and words in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("size", ["320x180", "180x320", "240x240"])
def test_the_chart_fills_the_room_under_its_title_inside_the_safe_area(size):
    deck = _deck([{"kind": "chart", "title": "Calories per day", "chart": CHARTS["bar"]}])
    output = resolve_output(size)
    layout = SlideRasterizer(deck, output).layout(0)
    chart = next(item for item in layout.items if isinstance(item, ChartPlacement))
    left, top, right, bottom = chart.box
    cl, ct, cr, cb = layout.content_box
    assert cl <= left < right <= cr and ct < top < bottom <= cb
    assert (bottom - top) > 0.45 * (cb - ct)  # most of the room goes to the chart
    title = layout.block("title")
    assert title.box[3] <= top


def _layered_frames(compositor, deck, output, clocks):
    rasterizer = SlideRasterizer(deck, output)
    buffer = np.empty(nv12_size(output.width, output.height), dtype=np.uint8)
    frames = []
    for index in range(1, len(deck.slides)):  # slide 0 starts complete: nothing reveals there
        layers = rasterizer.layers(index)
        motion = deck.motion(index)
        handle = compositor.upload_layers(f"chart-{index}", layers)
        for clock in clocks:
            t = motion.reveal.delay + clock * motion.reveal.duration
            compositor.render(
                FrameSpec(handle, source_state=motion.state(t, layers.count, output.width, output.height))
            )
            compositor.read_nv12(buffer)
            frames.append(buffer.copy())
        compositor.release(handle)
    return frames


@pytest.mark.gl
def test_gl_and_numpy_reveal_every_chart_alike(gl_compositor):
    """The stated tolerance: within 1 code value (identical on llvmpipe)."""
    output = resolve_output("256x144")
    slides = [{"kind": "title", "title": "Charts"}]
    slides += [{"kind": "chart", "title": name, "chart": chart} for name, chart in CHARTS.items()]
    slides.append({"kind": "chart", "title": "wipe", "figure": np.full((40, 60, 3), 200, np.uint8)})
    slides.append({"kind": "chart", "title": "fade", "figure": np.full((40, 60, 3), 90, np.uint8), "reveal": "fade"})
    deck = _deck(slides, theme={"background": {"gradient": {"from": "#102030", "to": "#304050"}}})
    clocks = (0.0, 0.25, 0.5, 0.75, 1.0)
    cpu = _layered_frames(CPUCompositor(output.width, output.height), deck, output, clocks)
    gl = _layered_frames(gl_compositor(output.width, output.height), deck, output, clocks)
    for a, b in zip(cpu, gl):
        difference = np.abs(a.astype(int) - b.astype(int))
        assert difference.max() <= 1
        assert np.count_nonzero(difference) <= max(1, a.size // 10_000)
    assert not gl_compositor.errors()


def _accent_pixels(rgb: np.ndarray) -> int:
    return int(np.count_nonzero(np.abs(rgb.astype(int) - ACCENT).max(axis=-1) <= 40))


def test_a_decoded_render_grows_the_bars_then_holds_them(tmp_path):
    chart = {"type": "bar", "labels": ["Mon", "Tue", "Wed"], "values": [1850, 2100, 1720], "reveal": 1.5}
    deck = {"slides": [{"kind": "chart", "title": "Calories", "chart": chart, "duration": 3}]}
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    report = render(tmp_path / "deck.json", tmp_path / "out.mp4", platform="320x180@10", quality="high")
    timeline = build_timeline(load_deck(tmp_path / "deck.json").timings(), 10)
    moving = {f for s in timeline if isinstance(s, Motion) for f in range(s.start, s.end)}
    assert moving == set(range(1, 15))  # the 1.5 s reveal from the first frame
    with av.open(str(tmp_path / "out.mp4")) as container:
        counts = [_accent_pixels(frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]
    assert len(counts) == report.frames == 30
    during, after = counts[:16], counts[15:]
    assert all(b >= a for a, b in itertools.pairwise(during)), during  # monotonic growth
    assert during[0] < during[-1] / 4
    assert max(after) - min(after) <= max(after) // 100  # constant after the reveal (encoder noise aside)


def test_a_picture_wipes_in_left_to_right():
    deck = _deck(
        [{"kind": "chart", "figure": np.full((90, 160, 3), 230, np.uint8), "reveal": {"style": "wipe", "duration": 1}}]
    )
    frame = render_frame(deck, 0.5, platform="320x180")
    grey = np.abs(frame.astype(int) - 230).max(axis=-1) <= 6
    columns = np.flatnonzero(grey.any(axis=0))
    assert columns.size and columns.max() < 320 * 0.75  # only the left part so far
    assert grey[:, columns.min()].any()


def test_pil_images_and_arrays_are_charts_too():
    picture = Image.new("RGB", (120, 80), (20, 200, 40))
    for figure in (picture, np.asarray(picture)):
        frame = render_frame(
            {"slides": [{"kind": "chart", "figure": figure, "reveal": "none"}]}, 1.0, platform="160x90"
        )
        green = (frame[..., 1].astype(int) - frame[..., 0] > 100) & (frame[..., 1] > 150)
        assert green.sum() > 0.3 * 160 * 90


def test_a_matplotlib_figure_is_drawn_at_the_slide_size():
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is optional (pip install 'reel-engine[charts]')")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.add_subplot()
    axes.bar(["a", "b", "c"], [3, 1, 2], color="#d62728")
    frame = render_frame(
        {"slides": [{"kind": "chart", "title": "Yours", "figure": figure, "reveal": "none"}]}, 1.0, platform="320x180"
    )
    red = (frame[..., 0].astype(int) > 180) & (frame[..., 1] < 80) & (frame[..., 2] < 80)
    assert red.sum() > 200


# ── the reveal as composited: nothing of a bar before it has grown there ──────────

BACKGROUND = (16, 40, 64)  # flat, so any column of the frame is the reference for another
MEAL_PLAN_BARS = {  # examples/meal-plan.json's calories chart
    "type": "bar",
    "labels": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "values": [1850, 1860, 1810, 1860, 1790, 1860, 1920],
    "unit": "kcal",
    "reveal": 1.4,
}


def _accent(frame: np.ndarray) -> np.ndarray:
    return np.abs(frame.astype(int) - ACCENT).max(axis=-1) <= 40


def _bar_columns(accent: np.ndarray) -> list[np.ndarray]:
    columns = np.flatnonzero(accent.sum(axis=0) > 20)  # bars, not the title's underline
    return np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1)


@pytest.mark.parametrize("platform", ["youtube", "640x360"])
def test_no_edge_of_a_bar_shows_above_it_while_it_grows(platform):
    """Composited (numpy), the columns of and beside each bar above its current top are
    the background and gridlines, as a column between two bars is: no coloured edge at
    full height (the chroma texel right of a bar's edge reads the bar's last column)."""
    deck = _deck(
        [{"kind": "chart", "title": "Calories per day", "chart": MEAL_PLAN_BARS, "duration": 4}],
        theme={"background": "#102040", "accent": "#ffb020"},
    )
    finished = _accent(render_frame(deck, 3.9, platform=platform, compositor="cpu"))
    bars = _bar_columns(finished)
    assert len(bars) == 7
    top = min(np.flatnonzero(finished[:, columns].any(axis=1)).min() for columns in bars)
    worst = {}
    for seconds in (0.0, 0.15, 0.5):
        frame = render_frame(deck, seconds, platform=platform, compositor="cpu").astype(int)
        accent = _accent(frame)
        for index, columns in enumerate(bars):
            if index:
                between = (bars[index - 1][-1] + columns[0]) // 2
            else:
                between = (columns[-1] + bars[1][0]) // 2
            grown = np.flatnonzero(accent[:, columns].any(axis=1))
            current = grown.min() - 1 if grown.size else finished.shape[0] * 3 // 4
            rows = slice(top - 10, current)  # from above the tallest bar to this one's top
            beside = frame[rows, columns[0] - 3 : columns[-1] + 4]
            difference = np.abs(beside - frame[rows, between][:, None]).max(initial=0)
            worst[(seconds, index)] = int(difference)
    assert max(worst.values()) <= 3, worst


def test_a_chart_in_a_box_below_its_smallest_size_is_drawn_small_not_refused(caplog):
    # 96×54: the chart's box under its title is ~70×20 px, below the 48×48 px a chart is drawn at.
    chart = {"type": "bar", "labels": ["a", "b", "c"], "values": [3, 2, 4]}
    deck = _deck([{"kind": "chart", "title": "Calories", "chart": chart, "duration": 2}])
    with caplog.at_level("WARNING"):
        rgb = render_frame(deck, 1.9, platform="96x54@10")
    assert rgb.shape == (54, 96, 3)
    orange = (rgb[..., 0].astype(int) - rgb[..., 2]) > 80  # the accent's hue, blended by the shrink
    assert np.count_nonzero(orange[20:]) > 60  # the bars are there, under the title, shrunk into the box
    assert any("below the 48×48 px it is drawn at" in record.getMessage() for record in caplog.records)
