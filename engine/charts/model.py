"""The ``chart`` object of a chart slide, validated into a `Chart`.

    {"type": "bar", "labels": ["Mon", "Tue"], "values": [1850, 2100], "unit": "kcal"}
    {"type": "line", "labels": [...], "series": [{"name": "2024", "values": [...]}, ...]}
    {"type": "kpi", "value": 1850, "unit": "kcal", "label": "per day", "progress": 0.82, "delta": -3.5}

Types: bar, hbar, stacked_bar, line, area, pie, donut (category charts: one value per
label, in ``values`` or in each of several ``series``) and kpi (one big number). Options
shared by all: ``unit``, ``decimals`` (auto when absent), ``show_values`` (auto when
absent: shown where they fit), ``colors`` (overrides the palette in order), and the
animated reveal: ``reveal`` (its length in seconds), ``easing`` (each bar's, line's or
slice's own curve) and ``stagger`` (the share of the reveal over which the bars'
starts are spread; 0 grows them all at once).

`parse_chart` raises `SpecError` whose path starts at the chart (``chart.values[3]:
must be a finite number, got nan``). Errors are raised as pydantic custom errors of
type ``"reel"`` carrying ``message`` and ``subpath``, the convention of engine/specbase.py,
so a `Chart` nested in a deck model reports through the deck's own errors too.
"""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from ..easing import Easing, parse_easing
from ..errors import SpecError, excerpt
from ..specbase import Colour, SpecModel, spec_error
from ..specbase import fail as _fail

__all__ = [
    "CATEGORY_TYPES",
    "CHART_TYPES",
    "MAX_BARS",
    "MAX_POINTS",
    "MAX_SERIES",
    "MAX_SLICES",
    "Chart",
    "Series",
    "parse_chart",
]

CHART_TYPES = ("bar", "hbar", "stacked_bar", "line", "area", "pie", "donut", "kpi")
#: Types with labels and values (everything but kpi).
CATEGORY_TYPES = CHART_TYPES[:-1]
BAR_TYPES = ("bar", "hbar", "stacked_bar")
PIE_TYPES = ("pie", "donut")
#: Bars per series: past this a bar chart is a texture, not a chart.
MAX_BARS = 24
#: Points per series of a line or area chart.
MAX_POINTS = 120
#: Slices of a pie or donut; more are unreadable (and outrun the palette).
MAX_SLICES = 8
MAX_SERIES = 6
#: No label can print more digits than this sensibly (and layout arithmetic stays exact).
MAX_ABS_VALUE = 1e15
MAX_SECONDS = 60.0
#: Keys only a kpi chart reads.
KPI_KEYS = ("value", "label", "progress", "delta", "delta_unit")


def _easing(value: object) -> str:
    try:
        return str(parse_easing(value))
    except SpecError as exc:
        _fail(exc.reason)


def _text(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        _fail("must not be empty (or only spaces)")
    return value


# Ints are accepted for floats; booleans and numeric strings are mistakes, not numbers.
Number = Annotated[float, Field(strict=True)]
EasingName = Annotated[str, BeforeValidator(_easing)]
Text = Annotated[str, BeforeValidator(_text), Field(max_length=200)]


class _ChartModel(SpecModel):
    """Unknown keys are refused with a suggestion; NaN and ±inf are refused everywhere."""


class Series(_ChartModel):
    """One named row of values, one per label. The name shows in the legend."""

    name: Text | None = None
    values: list[Number]
    color: Colour | None = None


class Chart(_ChartModel):
    """A chart: its type, its data and how it is drawn and revealed."""

    type: str = Field(json_schema_extra={"enum": list(CHART_TYPES)})
    labels: list[Text] | None = None
    values: list[Number] | None = None
    series: list[Series] | None = None
    unit: Annotated[str, Field(max_length=16)] | None = None
    decimals: Annotated[int, Field(strict=True, ge=0, le=6)] | None = None
    show_values: Annotated[bool, Field(strict=True)] | None = None
    colors: list[Colour] | None = None
    reveal: Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)] = 1.2
    easing: EasingName = "ease-out-cubic"
    stagger: Annotated[float, Field(strict=True, ge=0, lt=1)] = 0.35
    # kpi only
    value: Number | None = None
    label: Text | None = None
    progress: Number | None = None
    delta: Number | None = None
    delta_unit: Annotated[str, Field(max_length=16)] | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, name: str) -> str:
        if name not in CHART_TYPES:
            close = difflib.get_close_matches(name, CHART_TYPES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            _fail(f"unknown chart type {excerpt(name)}; {hint}use one of {', '.join(CHART_TYPES)}")
        return name

    @field_validator("progress")
    @classmethod
    def _a_share(cls, progress: float | None) -> float | None:
        if progress is not None and not 0 <= progress <= 1:
            _fail(f"must be within 0..1 (0.82 is 82 %), got {progress:g}")
        return progress

    @model_validator(mode="after")
    def _check_data(self) -> Chart:
        if self.type == "kpi":
            self._check_kpi()
        else:
            self._check_categories()
        return self

    # ── kpi ───────────────────────────────────────────────────────────────────────

    def _check_kpi(self) -> None:
        for key in ("labels", "values", "series"):
            if getattr(self, key) is not None:
                _fail("not used by a kpi chart; give 'value' (and 'label', 'progress', 'delta')", key)
        if self.value is None:
            _fail("required for a kpi chart", "value")
        for key in ("value", "delta"):
            number = getattr(self, key)
            if number is not None and abs(number) > MAX_ABS_VALUE:
                _fail(f"must be within ±{MAX_ABS_VALUE:g}, got {number:g}", key)

    # ── charts of categories ──────────────────────────────────────────────────────

    def _check_categories(self) -> None:
        for key in KPI_KEYS:
            if getattr(self, key) is not None:
                _fail(f"only a kpi chart uses {key!r}", key)
        if self.values is not None and self.series is not None:
            _fail("give 'values' (one series) or 'series' (several), not both", "values")
        if self.values is None and self.series is None:
            _fail("required: give 'values' (one series) or 'series' (several)", "values")
        labels = self.labels
        if labels is None:
            _fail(f"required: a {self.type} chart needs one label per value", "labels")
        if not labels:
            _fail("must not be empty", "labels")
        if self.series is not None and not self.series:
            _fail("needs at least one series", "series")
        if self.series is not None and len(self.series) > MAX_SERIES:
            _fail(f"at most {MAX_SERIES} series fit one chart, got {len(self.series)}", "series")
        self._check_count(len(labels))
        for index, series in enumerate(self.data_series):
            self._check_series(index, series, len(labels))
        if self.type in PIE_TYPES:
            self._check_pie()

    def _check_count(self, count: int) -> None:
        if self.type in BAR_TYPES and count > MAX_BARS:
            _fail(
                f"a {self.type} chart shows at most {MAX_BARS} bars per series, got {count};"
                " group the data or split it over several slides",
                "labels",
            )
        if self.type in ("line", "area") and count > MAX_POINTS:
            _fail(f"a {self.type} chart shows at most {MAX_POINTS} points per series, got {count}", "labels")
        if self.type in PIE_TYPES and count > MAX_SLICES:
            _fail(
                f"a {self.type} chart shows at most {MAX_SLICES} slices, got {count};"
                " group the smallest into an 'Other' slice",
                "labels",
            )

    def _check_series(self, index: int, series: Series, labels: int) -> None:
        where = self._values_path(index)
        if not series.values:
            _fail("must not be empty", *where)
        if len(series.values) != labels:
            _fail(
                f"has {len(series.values)} value(s) for {labels} label(s); give one value per label",
                *where,
            )
        for i, value in enumerate(series.values):
            if abs(value) > MAX_ABS_VALUE:
                _fail(f"must be within ±{MAX_ABS_VALUE:g}, got {value:g}", *where, i)
        if self.series is not None and len(self.series) > 1 and series.name is None:
            _fail("required when a chart has several series (the legend shows it)", "series", index, "name")

    def _check_pie(self) -> None:
        if self.series is not None and len(self.series) > 1:
            _fail(f"a {self.type} chart shows one series, got {len(self.series)}", "series")
        where = self._values_path(0)
        values = self.data_series[0].values
        for i, value in enumerate(values):
            if value < 0:
                _fail(f"a {self.type} chart cannot show a negative value, got {value:g}", *where, i)
        if not any(values):
            _fail(f"every value is 0; a {self.type} chart needs something to divide", *where)

    def _values_path(self, index: int) -> tuple[str | int, ...]:
        return ("values",) if self.values is not None else ("series", index, "values")

    # ── what the renderer reads ───────────────────────────────────────────────────

    @property
    def data_series(self) -> list[Series]:
        """The series to draw: ``values`` as one unnamed series, or ``series``."""
        if self.values is not None:
            return [Series(values=self.values)]
        return list(self.series or [])

    @property
    def easing_curve(self) -> Easing:
        return parse_easing(self.easing)


def parse_chart(data: object, path: str = "chart") -> Chart:
    """A validated `Chart` from a slide's ``chart`` object; `SpecError` under `path` if wrong.

    Errors read as the deck's do (`engine.specbase.spec_error`), rooted at `path`.
    """
    if isinstance(data, Chart):
        return data
    try:
        return Chart.model_validate(data)
    except ValidationError as exc:
        error = spec_error(exc, data)
        every = [{"path": _rooted(path, e["path"]), "message": e["message"]} for e in error.errors]
        raise SpecError(error.reason, _rooted(path, error.path), every) from exc


def _rooted(path: str, inner: str) -> str:
    """`inner`, a path inside the chart, below the chart's own `path`."""
    return path + inner if not inner or inner.startswith("[") else f"{path}.{inner}" if path else inner
