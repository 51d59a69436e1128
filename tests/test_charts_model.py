"""engine/charts/model.py: what a chart object accepts, and the SpecError (with its path) for what it does not."""

import math

import pytest
from pydantic import BaseModel, ValidationError

from engine.charts import MAX_BARS, Chart, parse_chart
from engine.charts.model import MAX_SLICES
from engine.errors import SpecError


def _bar(**changes):
    chart = {"type": "bar", "labels": ["Mon", "Tue", "Wed", "Thu"], "values": [1850, 2100, 1720, 1990]}
    chart.update(changes)
    return {key: value for key, value in chart.items() if value is not None}


def test_a_bar_chart_with_values_is_one_unnamed_series():
    chart = parse_chart(_bar(unit="kcal"))
    assert chart.type == "bar" and chart.unit == "kcal"
    assert [s.values for s in chart.data_series] == [[1850, 2100, 1720, 1990]]
    assert chart.data_series[0].name is None


def test_options_have_sensible_defaults():
    chart = parse_chart(_bar())
    assert chart.reveal == 1.2 and chart.easing == "ease-out-cubic" and 0 <= chart.stagger < 1
    assert chart.decimals is None and chart.show_values is None


def test_colours_and_easings_are_normalised():
    chart = parse_chart(_bar(colors=["#f00", [0, 128, 255]], easing="ease-in-out"))
    assert chart.colors == ["#ff0000", "#0080ff"]
    assert chart.easing == "ease-in-out-cubic"


def test_several_series_and_a_kpi_parse():
    line = parse_chart(
        {
            "type": "line",
            "labels": ["a", "b"],
            "series": [{"name": "2024", "values": [1, 2]}, {"name": "2025", "values": [2, 3], "color": "#123456"}],
        }
    )
    assert [s.name for s in line.data_series] == ["2024", "2025"]
    kpi = parse_chart({"type": "kpi", "value": 1850, "label": "per day", "progress": 0.82, "delta": -3.5})
    assert kpi.progress == 0.82 and kpi.delta == -3.5


def test_a_parsed_chart_is_returned_as_is():
    chart = parse_chart(_bar())
    assert parse_chart(chart) is chart


CASES = [
    # (chart, path, words the reason must contain)
    (_bar(type="bra"), "chart.type", "did you mean 'bar'"),
    (_bar(type="donught"), "chart.type", "did you mean 'donut'"),
    ({"labels": ["a"], "values": [1]}, "chart.type", "required"),
    (_bar(values=[1, 2, 3]), "chart.values", "3 value(s) for 4 label(s)"),
    (_bar(values=[1, 2, 3, math.nan]), "chart.values[3]", "must be a finite number, got nan"),
    (_bar(values=[1, math.inf, 3, 4]), "chart.values[1]", "finite number, got inf"),
    (_bar(values=[1, True, 3, 4]), "chart.values[1]", "must be a number, got true"),
    (_bar(values=[1, "2", 3, 4]), "chart.values[1]", "must be a number"),
    (_bar(values=[1, 2, 3, 1e20]), "chart.values[3]", "within"),
    (_bar(values=[]), "chart.values", "must not be empty"),
    (_bar(values=None), "chart.values", "required: give 'values'"),
    (_bar(series=[{"values": [1, 2, 3, 4]}]), "chart.values", "not both"),
    (_bar(labels=None), "chart.labels", "required"),
    (_bar(labels=[]), "chart.labels", "must not be empty"),
    (_bar(labels=["a", " ", "c", "d"]), "chart.labels[1]", "must not be empty"),
    (_bar(values=None, series=[]), "chart.series", "at least one series"),
    (
        _bar(values=None, series=[{"name": "a", "values": [1, 2, 3, 4]}, {"values": [1, 2, 3, 4]}]),
        "chart.series[1].name",
        "several series",
    ),
    (_bar(values=None, series=[{"name": "a", "values": [1, 2]}]), "chart.series[0].values", "2 value(s) for 4"),
    (_bar(values=None, series=[{"name": "a", "values": [1, 2, 3, math.nan]}]), "chart.series[0].values[3]", "finite"),
    (
        _bar(labels=[str(i) for i in range(MAX_BARS + 1)], values=list(range(MAX_BARS + 1))),
        "chart.labels",
        f"at most {MAX_BARS} bars per series, got {MAX_BARS + 1}",
    ),
    ({"type": "pie", "labels": ["a", "b", "c"], "values": [3, -1, 2]}, "chart.values[1]", "negative value, got -1"),
    ({"type": "donut", "labels": ["a", "b"], "values": [0, 0]}, "chart.values", "every value is 0"),
    (
        {"type": "pie", "labels": [str(i) for i in range(MAX_SLICES + 1)], "values": [1] * (MAX_SLICES + 1)},
        "chart.labels",
        f"at most {MAX_SLICES} slices",
    ),
    (
        {"type": "pie", "labels": ["a"], "series": [{"name": "x", "values": [1]}, {"name": "y", "values": [2]}]},
        "chart.series",
        "one series",
    ),
    ({"type": "kpi", "value": 1850, "progress": 1.2}, "chart.progress", "within 0..1"),
    ({"type": "kpi", "value": 1850, "progress": -0.1}, "chart.progress", "within 0..1"),
    ({"type": "kpi", "label": "per day"}, "chart.value", "required for a kpi"),
    ({"type": "kpi", "value": 1, "values": [1]}, "chart.values", "not used by a kpi"),
    ({"type": "kpi", "value": 1, "progres": 0.5}, "chart.progres", "did you mean 'progress'"),
    (_bar(progress=0.5), "chart.progress", "only a kpi chart"),
    (_bar(vaules=[1]), "chart.vaules", "did you mean 'values'"),
    (_bar(easing="ease-outt"), "chart.easing", "did you mean"),
    (_bar(colors=["#zz"]), "chart.colors[0]", "not a colour"),
    (_bar(stagger=1), "chart.stagger", "must be < 1"),
    (_bar(reveal=-1), "chart.reveal", "must be >= 0"),
    (_bar(decimals=9), "chart.decimals", "must be <= 6"),
    (_bar(show_values="yes"), "chart.show_values", "true or false"),
    ([1, 2], "chart", "must be an object"),
]


@pytest.mark.parametrize("data,path,reason", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_bad_charts_raise_a_spec_error_with_the_path(data, path, reason):
    with pytest.raises(SpecError) as caught:
        parse_chart(data)
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value)


def test_the_path_prefix_is_the_callers():
    with pytest.raises(SpecError) as caught:
        parse_chart(_bar(values=[1, 2, 3, math.nan]), path="slides[2].chart")
    assert str(caught.value) == "slides[2].chart.values[3]: must be a finite number, got nan"


def test_nested_in_a_deck_model_errors_carry_their_subpath():
    # engine/spec.py turns "reel" errors into "<where>.<subpath>: message": a Chart field
    # inside a slide reports the same paths as parse_chart.
    class Slide(BaseModel):
        chart: Chart

    with pytest.raises(ValidationError) as caught:
        Slide.model_validate({"chart": {"type": "pie", "labels": ["a", "b"], "values": [1, -1]}})
    error = caught.value.errors()[0]
    assert error["type"] == "reel" and error["loc"] == ("chart",)
    assert error["ctx"]["subpath"] == ("values", 1) and "negative" in error["ctx"]["message"]
