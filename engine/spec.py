"""The deck: what a user writes (JSON, YAML or Python) validated into one `Deck` model.

A deck, in JSON::

    {
      "title": "Quarterly update",
      "theme": {"background": "#14161b", "accent": "#ffb020"},
      "defaults": {"slide_duration": 5, "transition": {"name": "fade", "duration": 0.5}},
      "slides": [
        {"kind": "title", "title": "Q3", "subtitle": "What changed"},
        {"kind": "bullets", "title": "Highlights", "bullets": ["Revenue up", "Churn down"]},
        {"kind": "image", "file": "chart.png", "fit": "contain", "transition": "wipeleft"},
        {"kind": "text", "text": "Ship it.", "style": "big", "duration": 3}
      ]
    }

Rules worth knowing:

- A slide's ``duration`` is its whole time on screen, transitions included (see
  engine/timeline.py). A slide without one takes ``defaults.slide_duration``.
- A slide's ``transition`` is the one *into* it; a slide without one takes
  ``defaults.transition``. The first slide has nothing before it, so a transition
  there is accepted and ignored. ``"cut"`` (or a duration of 0) means no blend.
- A transition may not be longer than the slide it comes out of or the slide it goes
  into, and the transitions into and out of one slide may not overlap each other.
- Shorthands: ``"background": "#112233"`` is ``{"color": "#112233"}``;
  ``"transition": "wipeleft"`` is ``{"name": "wipeleft"}``.
- Colours are anything `engine.colour.parse_colour` reads; the model stores them
  normalised to ``"#rrggbb"`` (``Theme.text_rgb`` and friends give RGB triples).
- Relative file paths (image slides, background images, fonts) resolve against the
  deck file's folder, or `load_deck`'s ``base_dir``, or the current folder for decks
  given as dicts. The model holds them absolute.
- A deck file may carry a ``"$schema"`` key for editors; it is ignored.
- ``motion`` (on a slide, or in ``defaults`` for every slide) turns on Ken Burns
  (image slides), staggered builds of the text, and background drift; ``true`` takes
  a motion's defaults, ``false`` turns off one that ``defaults.motion`` turned on.
  A motion that cannot apply to a slide (Ken Burns without a picture, drift over a
  flat colour) is skipped when it comes from the defaults, and an error when the
  slide asks for it.

Every problem `load_deck` finds is a `SpecError` whose message starts with the JSON
path of the offending value (``slides[3].duration: must be > 0``), or an `AssetError`
for a file that is not there. Building models directly in Python (``Deck(...)``)
validates the same way but raises pydantic's ``ValidationError``; pass a dict to
`load_deck` to get a `SpecError` instead.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)

from .audio.models import DEFAULT_PADDING, AudioSpec, Padding, VoiceoverField, auto_duration
from .charts.model import Chart
from .colour import parse_colour
from .easing import LINEAR, Easing, easing_names, parse_easing
from .errors import AssetError, SpecError, excerpt
from .files import file_problem, image_size, read_regular, regular_file, short_path
from .limits import InputLimits, check_deck_values, check_yaml_nodes, setting_name
from .motion import PAN_DIRECTIONS, Build, Drift, KenBurns, Reveal, SlideMotion
from .specbase import AssetPath, Colour, SpecModel, json_keys, normalise_colour
from .specbase import context_base_dir as _context_base_dir
from .specbase import fail as _fail
from .specbase import json_path as _json_path
from .specbase import show as _show
from .timeline import SlideTiming
from .transitions import BUILTIN, MATTES, resolve_params
from .usershader import RESIZE_KEY, read_user_transition, resolve_user_params, user_transition_key

__all__ = [
    "Background",
    "BulletsSlide",
    "ChartSlide",
    "Deck",
    "Defaults",
    "Gradient",
    "ImageSlide",
    "MotionSpec",
    "Slide",
    "TextSlide",
    "Theme",
    "TitleSlide",
    "TransitionSpec",
    "deck_json_schema",
    "load_deck",
]

#: The default of REEL_MAX_SLIDES (engine/limits.py), which `load_deck` checks.
MAX_SLIDES = InputLimits.max_slides
MAX_BULLETS = 8
# A slide (or transition) longer than an hour is a typo, and unbounded durations would
# let a deck ask the timeline for billions of frames.
MAX_SECONDS = 3600.0
# Durations are user-typed decimals; "0.1 + 0.2 > 0.3" must not fail a deck.
_SECONDS_SLACK = 1e-9

DEFAULT_BACKGROUND = "#14161b"
DEFAULT_TEXT_COLOR = "#ffffff"
DEFAULT_ACCENT = "#ffb020"


# Validators raise `_fail` (engine/specbase.py): a pydantic error carrying the message
# verbatim plus an optional sub-path below the value being validated, which `load_deck`
# turns, like every pydantic error, into a SpecError starting with the JSON path.


def _seconds(value: float) -> str:
    return f"{value:g} s"


# ---------------------------------------------------------------------------------
# Field types


def _not_blank(text: str) -> str:
    if not text.strip():
        _fail("must not be empty (or only spaces)")
    return text


Text = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]

# Numbers are strict: `true` or "5" where seconds are expected is a mistake, not a 1
# or a 5. Ints are still accepted for floats. NaN and ±inf are refused model-wide.
Seconds = Annotated[float, Field(strict=True, gt=0, le=MAX_SECONDS)]
TransitionSeconds = Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]
Fit = Literal["cover", "contain"]
# An image slide's picture may also fill the whole frame, edge to edge.
ImageFit = Literal["cover", "contain", "fill"]

#: How far an image background is darkened under the text unless its `veil` says:
#: what every image background got before `veil` existed.
DEFAULT_VEIL = 0.3


def _veil_in_range(value: float) -> float:
    if not 0 <= value <= 1:
        _fail(f"must be between 0 (no veil) and 1 (fully dark), got {_show(value)}")
    return value


Veil = Annotated[
    float, Field(strict=True, json_schema_extra={"minimum": 0, "maximum": 1}), AfterValidator(_veil_in_range)
]


# ---------------------------------------------------------------------------------
# Models


class _SpecModel(SpecModel):
    """The deck's models: SpecModel, with a better guess for a slide's stray key."""

    @classmethod
    def _unknown_key_message(cls, key: str) -> str:
        # A key that belongs to another kind of slide is a likelier mistake than a typo.
        if issubclass(cls, _SlideBase) and not difflib.get_close_matches(key, json_keys(cls), n=1, cutoff=0.6):
            for kind, other in SLIDE_KINDS.items():
                if key in other.model_fields:
                    this_kind = cls.model_fields["kind"].default
                    return f"unknown key for a {this_kind} slide ({key!r} belongs to kind {kind!r})"
        return super()._unknown_key_message(key)


class Gradient(_SpecModel):
    """Two colours blended across the frame: top to bottom, or corner to corner."""

    # "from"/"to" in a deck; Python cannot name an attribute "from".
    model_config = ConfigDict(populate_by_name=True)

    start: Colour = Field(alias="from")
    end: Colour = Field(alias="to")
    direction: Literal["vertical", "diagonal"] = "vertical"

    @property
    def start_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.start)

    @property
    def end_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.end)


class Background(_SpecModel):
    """Exactly one of a flat `color`, a `gradient`, or an `image` file (scaled per `fit`).

    An image is veiled so text on it stays legible: blended `veil` of the way towards
    black under light text (white under dark text), 0 leaving it as it is, 1 fully dark.
    A picture close to the text's brightness gets more, most at the default (0.3, what
    image backgrounds always had), none at 0 or 1 (engine/raster/background.py).
    """

    color: Colour | None = None
    gradient: Gradient | None = None
    image: AssetPath | None = None
    fit: Fit = "cover"
    veil: Veil = DEFAULT_VEIL

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Background:
        given = [name for name in ("color", "gradient", "image") if getattr(self, name) is not None]
        if len(given) != 1:
            found = f"; found {' and '.join(given)}" if given else ""
            _fail(f"give exactly one of color, gradient or image{found}")
        for key in ("fit", "veil"):
            if key in self.model_fields_set and self.image is None:
                _fail(f"{key} applies only to an image background", key)
        return self

    @property
    def color_rgb(self) -> tuple[int, int, int] | None:
        return None if self.color is None else parse_colour(self.color)


def _background_shorthand(value: object) -> object:
    # "background": "#112233" (or [17, 34, 51]) is a flat colour.
    if isinstance(value, (str, list, tuple)):
        return {"color": normalise_colour(value)}  # an error here points at the shorthand
    return value


BackgroundField = Annotated[
    Background, BeforeValidator(_background_shorthand, json_schema_input_type=Union[str, Background])
]


def _language_tag(value: object) -> object:
    if isinstance(value, str) and not _LANGUAGE_TAG.fullmatch(value):
        _fail(f'language must be a BCP 47 tag such as "ja", "ar" or "zh-Hant", got {_show(value)}')
    return value


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

TextAlign = Literal["auto", "left", "center", "right"]


class Theme(_SpecModel):
    """Look shared by every slide. Fonts default to the bundled Inter (engine/resources.py).

    Text: each character is drawn by the first of `font` (or `font_bold`, `font_italic`,
    `font_bold_italic` for emphasis), `fallback_fonts`, the bundled Inter and, with
    `system_fonts`, the machine's fonts (fontconfig) that has it. Slide text may use
    ``**bold**``, ``*italic*`` and ``[[accent]]`` (`markup`); italic without an italic
    font is slanted. `text_align` "auto" keeps each layout's own alignment, with
    right-to-left paragraphs set from the right; `line_height` scales every layout's
    line spacing; `text_case` "upper" capitalises all text, "upper-titles" titles and
    headings; `legibility` sets text apart from busy backgrounds with a soft shadow, an
    outline or a scrim (a translucent panel); `language` (BCP 47) picks glyph variants
    where scripts share characters (Japanese vs Chinese Han).
    """

    background: BackgroundField = Field(default_factory=lambda: Background(color=DEFAULT_BACKGROUND))
    text_color: Colour = DEFAULT_TEXT_COLOR
    accent: Colour = DEFAULT_ACCENT
    font: AssetPath | None = None  # regular weight
    font_bold: AssetPath | None = None
    font_italic: AssetPath | None = None
    font_bold_italic: AssetPath | None = None
    fallback_fonts: list[AssetPath] = Field(default_factory=list)
    system_fonts: bool = True
    markup: bool = True
    text_align: TextAlign = "auto"
    line_height: float = Field(default=1.0, ge=0.7, le=2.5)
    text_case: Literal["none", "upper", "upper-titles"] = "none"
    legibility: Literal["none", "shadow", "outline", "scrim"] = "none"
    language: Annotated[str, BeforeValidator(_language_tag)] | None = None

    @property
    def text_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.text_color)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.accent)


def _normalise_easing(value: object) -> str:
    try:
        return str(parse_easing(value))
    except SpecError as exc:
        _fail(exc.reason)


# A name from engine.easing, or four cubic-bezier numbers; stored as its canonical
# text ("ease-in-out", "cubic-bezier(0.25, 0.1, 0.25, 1)").
EasingName = Annotated[
    str,
    BeforeValidator(
        _normalise_easing,
        json_schema_input_type=Union[
            Annotated[str, Field(examples=easing_names())], Annotated[list[float], Field(min_length=4, max_length=4)]
        ],
    ),
]


class TransitionSpec(_SpecModel):
    """A built-in transition (engine/transitions.py) or a gl-transitions ``file``, its
    length, easing and parameters.

    ``"cut"`` always has duration 0, whatever was written. A file's parameters are its
    uniforms (engine/usershader.py); a ``sampler2D`` parameter takes an image file,
    relative to the deck like every other path.
    """

    name: str = Field("fade", json_schema_extra={"enum": list(BUILTIN)})
    file: AssetPath | None = None
    duration: TransitionSeconds = 0.5
    params: dict[str, Any] = Field(default_factory=dict)
    easing: EasingName = "linear"
    # How a file's sampler2D images meet the frame's shape: "stretch" (what the
    # gl-transitions convention assumes), "cover" (fill, crop) or "contain" (fit whole,
    # transparent around). Built-ins always cover.
    resize: Literal["stretch", "cover", "contain"] | None = None

    _user_params: dict[str, object] | None = PrivateAttr(default=None)

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        if name not in BUILTIN:
            close = difflib.get_close_matches(name, list(BUILTIN), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            _fail(f"unknown transition {excerpt(name)}; {hint}built-ins are {', '.join(BUILTIN)}")
        return name

    @model_validator(mode="after")
    def _check_params(self, info: ValidationInfo) -> TransitionSpec:
        if self.file is None and self.resize is not None:
            _fail("resize applies to the images of a transition file; built-ins fit their mattes to cover", "resize")
        if self.file is not None:
            if "name" in self.model_fields_set:
                _fail("give a built-in name or a file, not both", "file")
            # A missing file, a FIFO or one too large is reported with the deck's other files.
            if file_problem(self.file, _limits_of(info.context).max_shader_bytes) is None:
                self._user_params = _user_transition_params(self.file, self.params, info)
            return self
        try:
            resolved = resolve_params(self.name, self.params)
        except SpecError as exc:
            # resolve_params reports "params" or "params.<key>" below the transition.
            _fail(exc.reason, *exc.path.split(".", 1))
        except OverflowError:  # an int too large for a float
            _fail("a parameter is too large a number", "params")
        for key, value in resolved.items():
            if isinstance(value, float) and not math.isfinite(value):
                _fail(f"must be a finite number, got {_show(value)}", "params", key)
        base = _context_base_dir(info.context)
        for key in BUILTIN[self.name].image_params & self.params.keys():
            if self.params[key] not in MATTES:  # a file, held absolute like every path
                self.params[key] = os.path.abspath(base / Path(self.params[key]).expanduser())
        if self.name == "cut":
            self.duration = 0.0
        return self

    def resolved_params(self) -> dict[str, object]:
        """Parameters with defaults filled in: floats and colours as RGB triples for a
        built-in; for a file, values per its uniforms' types, images as absolute paths."""
        if self.file is not None:
            params = dict(self._user_params or {})
            if self.texture_files():
                params[RESIZE_KEY] = self.resize or "stretch"
            return params
        return resolve_params(self.name, self.params)

    @property
    def key(self) -> str:
        """What the timeline and compositors call this transition."""
        return user_transition_key(self.file) if self.file is not None else self.name

    def texture_files(self) -> dict[str, Path]:
        """Image parameters given as files: name → absolute image path (bundled mattes aside)."""
        if self.file is None:
            images = BUILTIN[self.name].image_params & self.params.keys()
            return {k: Path(self.params[k]) for k in images if self.params[k] not in MATTES}
        if self._user_params is None:
            return {}
        return {k: Path(v) for k, v in self._user_params.items() if isinstance(v, str)}

    @property
    def curve(self) -> Easing:
        """The easing as a callable curve."""
        return parse_easing(self.easing)


def _user_transition_params(file: Path, params: dict[str, Any], info: ValidationInfo) -> dict[str, object]:
    try:
        transition = read_user_transition(file, _limits_of(info.context).max_shader_bytes)
        resolved = resolve_user_params(transition, params)
    except SpecError as exc:
        _fail(exc.reason, *[part for part in exc.path.split(".") if part])
    except AssetError as exc:
        _fail(str(exc), "file")
    base = _context_base_dir(info.context)
    for name, value in resolved.items():
        if transition.params[name].is_texture:
            resolved[name] = os.path.abspath(base / Path(value).expanduser())
    return resolved


def _transition_shorthand(value: object) -> object:
    # "transition": "wipeleft" is that transition with its default duration.
    return {"name": value} if isinstance(value, str) else value


TransitionField = Annotated[
    TransitionSpec, BeforeValidator(_transition_shorthand, json_schema_input_type=Union[str, TransitionSpec])
]


# ---------------------------------------------------------------------------------
# Motion inside a slide (engine/motion.py)

ZoomFactor = Annotated[float, Field(strict=False, ge=1.0, le=4.0)]


class KenBurnsSpec(_SpecModel):
    """A slow zoom from `zoom[0]` to `zoom[1]` across the picture, with an optional camera pan."""

    zoom: Annotated[list[ZoomFactor], Field(min_length=2, max_length=2)] = Field(default_factory=lambda: [1.0, 1.12])
    pan: Literal[tuple(PAN_DIRECTIONS)] = "none"  # type: ignore[valid-type]
    easing: EasingName = "linear"

    def motion(self) -> KenBurns:
        return KenBurns(self.zoom[0], self.zoom[1], self.pan, parse_easing(self.easing))


class BuildSpec(_SpecModel):
    """The slide's text items enter one after another over `duration` seconds.

    `delay` counts from the slide's first frame; by default the build starts as the
    transition into the slide ends.
    """

    style: Literal["rise", "fade", "slide"] = "rise"
    duration: Seconds = 1.0
    delay: TransitionSeconds | None = None
    easing: EasingName = "ease-out-cubic"


class DriftSpec(_SpecModel):
    """The background, drawn `amount` larger than the frame, drifts across that margin."""

    amount: Annotated[float, Field(strict=False, ge=0.01, le=0.3)] = 0.06
    direction: Literal["left", "right", "up", "down"] = "right"

    def motion(self) -> Drift:
        return Drift(self.amount, self.direction)


def _switch(value: object) -> object:
    # true is the motion with its defaults; false (like null) is "off", which overrides
    # defaults.motion because the key was given.
    if value is True:
        return {}
    return None if value is False else value


def _motion_shorthand(value: object) -> object:
    # "motion": false switches every motion off for the slide.
    return {"ken_burns": False, "build": False, "drift": False} if value is False else value


class MotionSpec(_SpecModel):
    """Which motions a slide runs; each is an object, `true` (its defaults) or `false`.

    A key left out is not "off": the slide keeps what ``defaults.motion`` says.
    """

    ken_burns: Annotated[
        KenBurnsSpec | None, BeforeValidator(_switch, json_schema_input_type=Union[bool, KenBurnsSpec])
    ] = None
    build: Annotated[BuildSpec | None, BeforeValidator(_switch, json_schema_input_type=Union[bool, BuildSpec])] = None
    drift: Annotated[DriftSpec | None, BeforeValidator(_switch, json_schema_input_type=Union[bool, DriftSpec])] = None


MotionField = Annotated[MotionSpec, BeforeValidator(_motion_shorthand, json_schema_input_type=Union[bool, MotionSpec])]


class Defaults(_SpecModel):
    """What a slide gets when it does not say."""

    slide_duration: Seconds = 5.0
    transition: TransitionField = Field(default_factory=TransitionSpec)
    motion: MotionField | None = None


def _auto_or_seconds(value: object, handler) -> object:
    # "auto" passes as it is; anything else is validated as Seconds, with its errors.
    return value if value == "auto" else handler(value)


# A slide's seconds on screen, or "auto": its voiceover's length plus padding.
SlideSeconds = Annotated[
    Seconds,
    WrapValidator(_auto_or_seconds, json_schema_input_type=Union[float, Literal["auto"]]),
    PlainSerializer(lambda value: value, return_type=Union[float, str]),  # "auto" stays "auto"
]


class _SlideBase(_SpecModel):
    """Fields every kind of slide has. `transition` is the one *into* the slide."""

    kind: str  # each kind narrows this to its Literal; declared here so it comes first
    duration: SlideSeconds | None = None
    background: BackgroundField | None = None
    transition: TransitionField | None = None
    motion: MotionField | None = None
    voiceover: VoiceoverField | None = None
    padding: Padding | None = None  # seconds after the voiceover, for "duration": "auto"
    align: TextAlign | None = None  # this slide's text alignment, over the theme's text_align

    @model_validator(mode="after")
    def _auto_needs_a_voiceover(self) -> _SlideBase:
        if self.duration == "auto" and self.voiceover is None:
            _fail('"auto" makes the slide as long as its voiceover, and it has none', "duration")
        if self.padding is not None and self.duration != "auto":
            _fail('padding is the time after the voiceover of a slide with "duration": "auto"', "padding")
        return self


class TitleSlide(_SlideBase):
    """A large title, with an optional subtitle under it."""

    kind: Literal["title"] = "title"
    title: Text
    subtitle: Text | None = None


class BulletsSlide(_SlideBase):
    """One to eight bullet points under an optional title."""

    kind: Literal["bullets"] = "bullets"
    title: Text | None = None
    bullets: Annotated[list[Text], Field(min_length=1, max_length=MAX_BULLETS)]


class ImageSlide(_SlideBase):
    """An image file with an optional caption, framed in the safe area filling it (cover) or
    shown whole (contain), or covering the whole frame edge to edge, untouched (fill).

    `fill` is for a picture that is already a finished slide or chart: scaled to cover
    the frame and cropped from the centre, with no margin, rounded corners, veil or
    shadow; a caption lies over it with the theme's `legibility` (on a band without one).
    """

    kind: Literal["image"] = "image"
    file: AssetPath
    fit: ImageFit = "cover"
    caption: Text | None = None


class TextSlide(_SlideBase):
    """A paragraph, a quote (with an optional attribution), or one big statement."""

    kind: Literal["text"] = "text"
    text: Text
    style: Literal["paragraph", "quote", "big"] = "paragraph"
    attribution: Text | None = None


def _reveal_style(value: object) -> object:
    return {"style": value} if isinstance(value, str) else value


class PictureReveal(_SpecModel):
    """How a picture of a chart comes in: a left-to-right `wipe`, a `fade`, or `none`."""

    style: Literal["wipe", "fade", "none"] = "wipe"
    duration: Seconds = 1.0
    easing: EasingName = "ease-in-out"


class ChartSlide(_SlideBase):
    """A chart under an optional title: drawn from `chart` data, or a ready-made picture.

    The picture is an image file (`image`) or, from Python, a matplotlib Figure, a PIL
    image or an H×W×3/×4 uint8 array (`figure`). Data charts reveal themselves as
    `chart.reveal` says (bars grow, lines draw, pies sweep); a picture by `reveal`.
    """

    kind: Literal["chart"] = "chart"
    title: Text | None = None
    chart: Chart | None = None
    image: AssetPath | None = None
    figure: Any = Field(
        default=None, json_schema_extra={"description": "Python only: a matplotlib Figure, PIL image or array"}
    )
    reveal: Annotated[PictureReveal, BeforeValidator(_reveal_style)] = Field(default_factory=PictureReveal)

    @model_validator(mode="after")
    def _one_source(self) -> ChartSlide:
        given = [k for k in ("chart", "image", "figure") if getattr(self, k) is not None]
        if len(given) != 1:
            found = f"; found {' and '.join(given)}" if given else ""
            _fail(f"a chart slide needs exactly one of chart (data), image (a file) or figure (Python){found}")
        if self.figure is not None:
            self.figure = _figure_source(self.figure)
        if "reveal" in self.model_fields_set and self.chart is not None:
            _fail("a data chart's reveal is chart.reveal (seconds); reveal here is for pictures", "reveal")
        return self


def _figure_source(figure: object) -> object:
    """Accept what `engine.raster.charts.figure_pixels` can draw, or say what is wrong."""
    import numpy as np

    if isinstance(figure, np.ndarray):
        if figure.dtype != np.uint8 or figure.ndim != 3 or figure.shape[2] not in (3, 4) or min(figure.shape[:2]) < 2:
            _fail(f"an array figure must be H×W×3 or H×W×4 uint8, got {figure.dtype} {figure.shape}", "figure")
        return figure
    if hasattr(figure, "savefig") or hasattr(figure, "convert"):  # a matplotlib Figure, a PIL image
        return figure
    _fail(f"figure must be a matplotlib Figure, a PIL image or a uint8 array, got {type(figure).__name__}", "figure")


Slide = Annotated[TitleSlide | BulletsSlide | ImageSlide | TextSlide | ChartSlide, Field(discriminator="kind")]

SLIDE_KINDS: dict[str, type[_SlideBase]] = {
    cls.model_fields["kind"].default: cls for cls in (TitleSlide, BulletsSlide, ImageSlide, TextSlide, ChartSlide)
}


def _allow_schema_key(schema: dict[str, Any]) -> None:
    # Decks may name their schema for editors; with additionalProperties false, the
    # schema itself must then list the key.
    schema.setdefault("properties", {})["$schema"] = {"type": "string"}


def _cover_shorthand(value: object) -> object:
    # "cover": 3.5 is a moment in seconds; {"slide": 2} the moment slide 2 is complete.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"at": value}
    return value


class CoverSpec(_SpecModel):
    """The frame platforms show before the video plays: a moment (`at`), or a slide once complete."""

    at: Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)] | None = None
    slide: Annotated[int, Field(strict=True, ge=0)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CoverSpec:
        if (self.at is None) == (self.slide is None):
            _fail("give exactly one of at (seconds) or slide (an index)")
        return self


class Deck(_SpecModel):
    """A Reel deck: theme, defaults and slides.

    A slide's transition is the one into it; on the first slide it is ignored.
    """

    model_config = ConfigDict(title="Reel deck", json_schema_extra=_allow_schema_key)
    _ignored_keys: ClassVar[frozenset[str]] = frozenset({"$schema"})

    title: Text | None = None
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)] = 0
    theme: Theme = Field(default_factory=Theme)
    audio: AudioSpec | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    slides: Annotated[list[Slide], Field(min_length=1)]  # at most REEL_MAX_SLIDES, checked by load_deck
    cover: Annotated[CoverSpec | None, BeforeValidator(_cover_shorthand)] = None

    _base_dir: Path = PrivateAttr()
    _source: Path | None = PrivateAttr(default=None)
    _auto_seconds: dict[int, float] = PrivateAttr(default_factory=dict)  # "auto" durations, measured

    def model_post_init(self, context: Any, /) -> None:
        self._base_dir = _context_base_dir(context)
        if isinstance(context, Mapping) and context.get("source") is not None:
            self._source = Path(context["source"])

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in this deck were resolved against."""
        return self._base_dir

    @property
    def source(self) -> Path | None:
        """The file this deck was loaded from; None for decks built from data."""
        return self._source

    # -- timing ------------------------------------------------------------------

    def slide_duration(self, index: int) -> float:
        """Seconds slide `index` is on screen, transitions into and out of it included."""
        own = self.slides[index].duration
        if own == "auto":
            return self._auto_seconds[index]
        return self.defaults.slide_duration if own is None else own

    def transition_into(self, index: int) -> TransitionSpec | None:
        """The transition that blends slide `index - 1` into slide `index`; None for a cut.

        Slide 0 has nothing before it, so its transition (if any) is ignored.
        """
        slide = self.slides[index]
        if index == 0:
            return None
        spec = self.defaults.transition if slide.transition is None else slide.transition
        if (spec.file is None and spec.name == "cut") or spec.duration == 0:
            return None
        return spec

    def timings(self) -> list[SlideTiming]:
        """What engine.timeline.build_timeline needs, transition parameters resolved."""
        timings = []
        for index in range(len(self.slides)):
            into = self.transition_into(index)
            motion = self.motion(index)
            timings.append(
                SlideTiming(
                    duration=self.slide_duration(index),
                    transition=None if into is None else into.key,
                    transition_duration=0.0 if into is None else into.duration,
                    transition_params={} if into is None else into.resolved_params(),
                    transition_easing=LINEAR if into is None else into.curve,
                    motion=() if motion is None else motion.windows,
                )
            )
        return timings

    def audio_plan(self, fps: int):
        """The soundtrack (engine.audio.AudioPlan) of a render at `fps`, or None for a silent deck.

        A voiceover starts on its slide's first frame (plus its delay), so it stays within
        a frame of the picture whatever the rounding of slide starts.
        """
        from .audio import AudioPlan, VoiceoverCue
        from .timeline import build_timeline

        cues = [(i, s.voiceover) for i, s in enumerate(self.slides) if s.voiceover is not None]
        if self.audio is None and not cues:
            return None
        timeline = build_timeline(self.timings(), fps)
        return AudioPlan(
            music=self.audio,
            voiceovers=[VoiceoverCue(timeline.first_frame(i) / fps, vo, f"slides[{i}].voiceover") for i, vo in cues],
            duration=timeline.duration,
        )

    def motion(self, index: int) -> SlideMotion | None:
        """What moves on slide `index`, or None for a still slide.

        A slide's own ``motion`` keys override those of ``defaults.motion``; motions
        that cannot apply to the slide are left out (the validator has already refused
        those the slide asked for itself).
        """
        slide = self.slides[index]
        chosen = {}
        for source in (self.defaults.motion, slide.motion):
            if source is not None:
                chosen.update({key: getattr(source, key) for key in source.model_fields_set})
        kb, build, drift = (chosen.get(key) or None for key in ("ken_burns", "build", "drift"))
        reveal = self._chart_reveal(index)
        if index == 0:
            # Frame 0 is the first impression and what platforms show before playing:
            # the first slide starts complete unless it asks for a build or reveal itself.
            if slide.motion is None or "build" not in slide.motion.model_fields_set:
                build = None
            if not _reveal_asked_for(slide):
                reveal = None
        if kb is not None and not isinstance(slide, ImageSlide):
            kb = None
        if build is not None and not _has_text(slide):
            build = None
        hidden = isinstance(slide, ImageSlide) and slide.fit == "fill"  # the picture covers the background
        if drift is not None and (kb is not None or hidden or not _background_moves(slide_background_of(self, index))):
            drift = None
        if kb is None and build is None and drift is None and reveal is None:
            return None
        return SlideMotion(
            self.slide_duration(index),
            ken_burns=kb.motion() if kb else None,
            build=None
            if build is None
            else Build(
                build.style,
                self._seconds_into(index) if build.delay is None else build.delay,
                build.duration,
                parse_easing(build.easing),
            ),
            drift=drift.motion() if drift else None,
            reveal=reveal,
        )

    def _chart_reveal(self, index: int) -> Reveal | None:
        """A chart slide's reveal, starting when the transition into the slide ends."""
        slide = self.slides[index]
        if not isinstance(slide, ChartSlide):
            return None
        delay = self._seconds_into(index)
        if slide.chart is not None:
            # The chart's own easing and stagger are drawn into its reveal times.
            return Reveal(delay, slide.chart.reveal) if slide.chart.reveal > 0 else None
        if slide.reveal.style == "none":
            return None
        return Reveal(delay, slide.reveal.duration, parse_easing(slide.reveal.easing), slide.reveal.style == "fade")

    def cover_seconds(self) -> float:
        """When the cover frame is shown: `cover.at`, else the moment `cover.slide` (default
        the first slide) is complete — after the transition into it, its build and its reveal.
        """
        if self.cover is not None and self.cover.at is not None:
            return self.cover.at
        index = 0 if self.cover is None else self.cover.slide
        start = sum(self.slide_duration(i) - self._seconds_into(i + 1) for i in range(index))
        settled = self._seconds_into(index)
        motion = self.motion(index)
        if motion is not None:
            for timed in (motion.build, motion.reveal):
                if timed is not None:
                    settled = max(settled, timed.delay + timed.duration)
        # Still before the transition out of the slide begins.
        latest = self.slide_duration(index) - self._seconds_into(index + 1)
        return start + min(settled, max(0.0, latest - 1e-3))

    def total_duration(self) -> float:
        """Seconds of video: Σ slide durations − Σ transition durations (they overlap)."""
        return sum(self.slide_duration(i) - self._seconds_into(i) for i in range(len(self.slides)))

    def _seconds_into(self, index: int) -> float:
        into = self.transition_into(index) if 0 <= index < len(self.slides) else None
        return 0.0 if into is None else into.duration

    # -- files -------------------------------------------------------------------

    def asset_files(self) -> list[tuple[str, Path, str]]:
        """Every file the deck names: (JSON path, absolute file, what it is)."""
        found: list[tuple[str, Path, str]] = []
        for where, path, what in (
            ("theme.font", self.theme.font, "font"),
            ("theme.font_bold", self.theme.font_bold, "font"),
            ("theme.font_italic", self.theme.font_italic, "font"),
            ("theme.font_bold_italic", self.theme.font_bold_italic, "font"),
            *((f"theme.fallback_fonts[{i}]", font, "font") for i, font in enumerate(self.theme.fallback_fonts)),
            ("theme.background.image", self.theme.background.image, "background image"),
        ):
            if path is not None:
                found.append((where, path, what))
        if self.audio is not None:
            found.append(("audio.music", self.audio.music, "music"))
        for index, slide in enumerate(self.slides):
            if slide.voiceover is not None:
                found.append((f"slides[{index}].voiceover.file", slide.voiceover.file, "voiceover"))
            if isinstance(slide, ImageSlide):
                found.append((f"slides[{index}].file", slide.file, "image"))
            if isinstance(slide, ChartSlide) and slide.image is not None:
                found.append((f"slides[{index}].image", slide.image, "chart image"))
            if slide.background is not None and slide.background.image is not None:
                found.append((f"slides[{index}].background.image", slide.background.image, "background image"))
        for where, spec in [("defaults.transition", self.defaults.transition)] + [
            (f"slides[{i}].transition", s.transition) for i, s in enumerate(self.slides) if s.transition is not None
        ]:
            if spec.file is not None:
                found.append((f"{where}.file", spec.file, "transition file"))
            for name, image in spec.texture_files().items():
                found.append((f"{where}.params.{name}", image, "image"))
        return found

    # -- cross-slide checks ------------------------------------------------------

    @model_validator(mode="after")
    def _measure_voiceovers(self, info: ValidationInfo) -> Deck:
        # Runs before the checks below, which need every slide's duration. A voiceover
        # file that is missing, not a regular file, longer than REEL_MAX_AUDIO_SECONDS
        # or does not decode is an AssetError naming it.
        from .audio.decode import voiceover_duration

        max_seconds = _limits_of(info.context).max_audio_seconds
        for index, slide in enumerate(self.slides):
            if slide.duration == "auto":
                where = f"slides[{index}].voiceover"
                seconds = voiceover_duration(slide.voiceover.file, where, max_seconds)
                padding = DEFAULT_PADDING if slide.padding is None else slide.padding
                self._auto_seconds[index] = auto_duration(seconds, padding, slide.voiceover.delay)
        return self

    @model_validator(mode="after")
    def _cover_is_in_the_video(self) -> Deck:
        if self.cover is None:
            return self
        if self.cover.slide is not None and self.cover.slide >= len(self.slides):
            _fail(f"there is no slide {self.cover.slide}; the deck has {len(self.slides)}", "cover", "slide")
        if self.cover.at is not None and self.cover.at >= self.total_duration():
            _fail(f"{self.cover.at:g} s is past the end of the video ({self.total_duration():g} s)", "cover", "at")
        return self

    @model_validator(mode="after")
    def _transitions_fit_their_slides(self) -> Deck:
        for index in range(1, len(self.slides)):
            into = self.transition_into(index)
            if into is None:
                continue
            # A transition overlaps the end of the slide before it and the start of
            # this one, so it must fit inside each of them...
            for blamed, which in ((index, "that slide"), (index - 1, f"slides[{index - 1}], which it comes out of")):
                if into.duration > self.slide_duration(blamed) + _SECONDS_SLACK:
                    _fail(
                        f"{self._describe_transition(index)} is longer than {which} "
                        f"({self._describe_duration(blamed)})",
                        *self._blame_path(index, blamed),
                    )
            # ...and the transitions at both ends of the slide before it must not
            # overlap each other.
            previous = index - 1
            incoming, outgoing = self._seconds_into(previous), into.duration
            if previous > 0 and incoming + outgoing > self.slide_duration(previous) + _SECONDS_SLACK:
                _fail(
                    f"slides[{previous}] lasts {self._describe_duration(previous)}, too short for both "
                    f"{self._describe_transition(previous)} and {self._describe_transition(index)} "
                    f"({_seconds(incoming + outgoing)} together)",
                    *self._blame_path(index, previous, also=previous),
                )
        return self

    @model_validator(mode="after")
    def _motions_fit_their_slides(self) -> Deck:
        for index, slide in enumerate(self.slides):
            own = slide.motion
            if own is not None and own.ken_burns and not isinstance(slide, ImageSlide):
                _fail(
                    f"Ken Burns moves an image slide's picture; a {slide.kind} slide has none",
                    "slides",
                    index,
                    "motion",
                    "ken_burns",
                )
            if own is not None and own.drift and not _background_moves(slide_background_of(self, index)):
                _fail(
                    "drift moves the background, and a flat colour does not show it; "
                    "use a gradient or an image background",
                    "slides",
                    index,
                    "motion",
                    "drift",
                )
            motion = self.motion(index)
            if motion is None:
                continue
            # A transition file may blend a moving slide: GL draws the slide's frame in RGB for it.
            reveal = motion.reveal
            if reveal is not None and reveal.delay + reveal.duration > motion.duration + _SECONDS_SLACK:
                where = ("chart", "reveal") if self.slides[index].chart is not None else ("reveal", "duration")
                _fail(
                    f"the {_seconds(reveal.duration)} reveal starting {_seconds(reveal.delay)} into slides[{index}] "
                    f"ends after the slide ({self._describe_duration(index)})",
                    "slides",
                    index,
                    *where,
                )
            if motion.build is None:
                continue
            build = motion.build
            if build.delay + build.duration > motion.duration + _SECONDS_SLACK:
                from_defaults = own is None or not own.build
                path = ("defaults", "motion", "build") if from_defaults else ("slides", index, "motion", "build")
                _fail(
                    f"the {_seconds(build.duration)} build starting {_seconds(build.delay)} into slides[{index}] "
                    f"ends after the slide ({self._describe_duration(index)})",
                    *path,
                )
        return self

    def _describe_transition(self, index: int) -> str:
        into = self.transition_into(index)
        name = "cut" if into is None else into.name
        source = "" if self.slides[index].transition is not None else " (from defaults.transition)"
        return f"the {_seconds(self._seconds_into(index))} {name} into slides[{index}]{source}"

    def _describe_duration(self, index: int) -> str:
        own = self.slides[index].duration
        source = "" if own is not None else " from defaults.slide_duration"
        if own == "auto":
            source = " (auto, from its voiceover)"
        return f"{_seconds(self.slide_duration(index))}{source}"

    def _blame_path(self, index: int, short_slide: int, also: int | None = None) -> tuple[str | int, ...]:
        """Where to point the user: a transition they wrote, else the slide that is too short.

        `index` is the transition at fault; `also` another slide whose own transition
        takes part (the incoming one, in an overlap).
        """
        for candidate in (index, also):
            if candidate is not None and self.slides[candidate].transition is not None:
                return ("slides", candidate, "transition", "duration")
        return ("slides", short_slide, "duration")


def _reveal_asked_for(slide: object) -> bool:
    """Whether a chart slide sets its reveal itself (not only by default)."""
    if not isinstance(slide, ChartSlide):
        return False
    if slide.chart is not None:
        return "reveal" in slide.chart.model_fields_set
    return "reveal" in slide.model_fields_set


def slide_background_of(deck: Deck, index: int) -> Background:
    """The background slide `index` is drawn on: its own, else the theme's."""
    own = deck.slides[index].background
    return own if own is not None else deck.theme.background


def _background_moves(background: Background) -> bool:
    # A flat colour looks the same wherever it is; drifting it only costs frames.
    return background.color is None


def _has_text(slide: object) -> bool:
    return not isinstance(slide, ImageSlide) or slide.caption is not None


# ---------------------------------------------------------------------------------
# Loading


def load_deck(
    source: str | os.PathLike[str] | Mapping[str, Any] | Deck,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    limits: InputLimits | None = None,
) -> Deck:
    """A validated `Deck` from a file (``.json``; anything else is read as YAML), a dict, or a Deck.

    A `Deck` is returned as is. Relative file paths resolve against `base_dir` if
    given, else the deck file's folder, else the current folder. Raises `SpecError`
    for anything wrong in the deck, `AssetError` for a missing deck file or a file it
    names that is not there or not a regular file.

    `limits` bounds what the deck and its files may hold (engine/limits.py); by default
    the REEL_MAX_* settings (environment, reel.toml). Each is checked before the work
    it bounds: file sizes before reading, a YAML deck's aliases before expanding them,
    strings and slides before validating, pictures and sounds from their headers.
    """
    if isinstance(source, Deck):
        return source
    if limits is None:
        from .settings import load_settings

        limits = load_settings().input_limits
    deck_file = None
    if isinstance(source, (str, os.PathLike)):
        deck_file = Path(source).absolute()
        data = _read_deck_file(deck_file, limits)
        folder = deck_file.parent
    else:
        data = source  # already parsed; validation says what is wrong with it
        folder = Path.cwd()
    if base_dir is not None:
        folder = Path(base_dir).absolute()

    check_deck_values(data, limits)  # before pydantic walks (and copies) every value
    try:
        deck = Deck.model_validate(data, context={"base_dir": folder, "source": deck_file, "limits": limits})
    except ValidationError as exc:
        raise _spec_error(exc, data) from exc
    except RecursionError as exc:  # a self-referencing structure from Python code
        raise SpecError("the deck is nested too deeply, or refers to itself") from exc
    _check_files(deck, limits)
    return deck


def _limits_of(context: object) -> InputLimits:
    """The limits `load_deck` validates with (its context), else the defaults."""
    if isinstance(context, Mapping) and isinstance(context.get("limits"), InputLimits):
        return context["limits"]
    return InputLimits()


def _read_deck_file(deck_file: Path, limits: InputLimits) -> object:
    raw = read_regular(deck_file, "deck file", limits.max_deck_bytes, setting=setting_name("max_deck_bytes"))
    try:
        text = raw.decode("utf-8-sig")  # tolerate a BOM from Windows editors
    except UnicodeDecodeError as exc:
        raise SpecError(f"{deck_file}: not UTF-8 text (bad byte at offset {exc.start})") from exc

    if deck_file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{deck_file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        except (ValueError, RecursionError) as exc:  # e.g. an int literal of 5000 digits
            raise SpecError(f"{deck_file}: invalid JSON: {_cut(str(exc))}") from exc
    return _read_yaml(deck_file, text, limits)


def _read_yaml(deck_file: Path, text: str, limits: InputLimits) -> object:
    """YAML is (nearly) a superset of JSON, so it is the reader for every other suffix.

    The document is composed into a node graph first, in which an alias is a second
    reference to one node: `check_yaml_nodes` measures what it stands for before any
    of it is built (a "billion laughs" deck is refused in microseconds).
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:  # an empty document
            return None
        refused = check_yaml_nodes(node, limits)
        if refused is None:
            return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{deck_file}:{mark.line + 1}:{mark.column + 1}" if mark else str(deck_file)
        raise SpecError(f"{where}: invalid YAML: {_cut(str(exc.problem or exc.context))}") from exc
    except Exception as exc:
        # PyYAML's constructors fail on odd tagged values with whatever builtin error
        # they hit (`2024-13-40` → ValueError, `!!timestamp x` → AttributeError); all
        # of them mean the text is not a deck. Their words may quote the deck: cut short.
        raise SpecError(f"{deck_file}: invalid YAML: {_cut(str(exc))}") from exc
    finally:
        loader.dispose()
    at, message = refused
    mark = getattr(at, "start_mark", None)
    where = f"{deck_file}:{mark.line + 1}:{mark.column + 1}" if mark else str(deck_file)
    raise SpecError(f"{where}: {message}")


def _cut(words: str, limit: int = 200) -> str:
    """A parser's message on one line, at most `limit` characters (it may quote the deck)."""
    text = " ".join(words[: limit * 2].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What each kind of file the deck names may hold, by the `what` of Deck.asset_files.
_IMAGES = ("image", "background image", "chart image")
_SOUNDS = ("music", "voiceover")


def _check_files(deck: Deck, limits: InputLimits) -> None:
    """AssetError for the first file the deck names that is not there, not a regular
    file, or past its limit: images by bytes and pixels, music and voiceovers by
    seconds (both from headers), transition files by bytes. Nothing is decoded."""
    for where, path, what in deck.asset_files():
        if what in _IMAGES:
            regular_file(path, what, limits.max_image_bytes, setting=setting_name("max_image_bytes"), where=where)
            image_size(path, what, limits.max_image_pixels, setting=setting_name("max_image_pixels"), where=where)
        elif what == "transition file":
            regular_file(path, what, limits.max_shader_bytes, setting=setting_name("max_shader_bytes"), where=where)
        elif what in _SOUNDS:
            from .audio.decode import check_audio_length

            check_audio_length(path, where, limits.max_audio_seconds)
        elif what == "font":
            _check_font(regular_file(path, what, where=where), where)
        else:
            regular_file(path, what, where=where)


#: The first four bytes of the font files Reel reads: TrueType, OpenType (CFF), old
#: Apple TrueType, and a collection of either.
_FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


def _check_font(path: Path, where: str) -> None:
    # A fallback font is opened only when a character needs it, so a broken one would
    # otherwise pass unnoticed until some deck's text reached it.
    with open(path, "rb") as file:
        head = file.read(4)
    if head not in _FONT_SIGNATURES:
        raise AssetError(f"{where}: not a TrueType or OpenType font file: {short_path(path)}", path)


# ---------------------------------------------------------------------------------
# pydantic errors → SpecError


def _spec_error(exc: ValidationError, data: object) -> SpecError:
    """The first error of `exc`, as ``path: what is wrong``."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = _without_union_tags(first["loc"], data)
    message, subpath = _describe(first, loc)
    if loc[-2:-1] and loc[-1] == "[key]":
        loc = loc[:-2]  # pydantic's ("params", 1, "[key]"): blame the mapping, not the key
    if len(errors) > 1:
        message += f" (+{len(errors) - 1} more)"
    return SpecError(message, _json_path(loc + subpath))


def _without_union_tags(loc: tuple[str | int, ...], data: object) -> tuple[str | int, ...]:
    """`loc` minus the tags pydantic inserts for discriminated unions.

    pydantic reports an error inside ``slides[1]``, a bullets slide, at
    ``("slides", 1, "bullets", "bullets", 2)``: the first "bullets" is the tag. We walk
    the input alongside the loc: on arriving at a slide (a mapping whose "kind" is a
    slide kind), a loc item equal to that kind is the tag. Only slides carry a "kind";
    any other mapping with that key fails its own unknown-key check first.
    """
    kept: list[str | int] = []
    node: object = data
    just_arrived = True
    for item in loc:
        if just_arrived and isinstance(node, Mapping) and item in SLIDE_KINDS and node.get("kind") == item:
            just_arrived = False  # the tag appears once, straight after arriving
            continue
        kept.append(item)
        node = _child(node, item)
        just_arrived = True
    return tuple(kept)


def _child(node: object, item: str | int) -> object:
    if isinstance(node, Mapping) and isinstance(item, str):
        return node.get(item)
    if isinstance(node, (list, tuple)) and isinstance(item, int) and 0 <= item < len(node):
        return node[item]
    return None  # off the raw input (a shorthand was expanded): nothing more to strip


_TYPE_NAMES = {
    "string_type": "a string",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "path_type": "a file path (a string)",
}


def _type_word(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _describe(error: Mapping[str, Any], loc: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """A message for one pydantic error, and any path below `loc` it belongs to."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    got = _show(value)

    if kind == "reel":
        return ctx["message"], tuple(ctx["subpath"])
    if not loc and kind in ("model_type", "model_attributes_type", "dict_type"):
        # Only the type: the "deck" may be any file's text (/etc/passwd), not to be quoted.
        return f"a deck must be an object with a 'slides' list, got {_type_word(value)}", ()
    if loc and loc[-1] == "[key]":  # a non-string key in a free-form mapping (params)
        return f"keys must be strings, got {got}", ()
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]}, got {got}", ()
    if kind == "missing":
        return "required, but missing", ()
    if kind == "extra_forbidden":  # normally caught earlier, with a suggestion
        return "unknown key", ()
    if kind == "finite_number":
        return f"must be a finite number, got {got}", ()
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "?")
        if isinstance(bound, float):
            bound = f"{bound:g}"
        return f"must be {op} {bound}, got {got}", ()
    if kind == "string_too_short":
        return "must not be empty", ()
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}", ()
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} items", ()
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, got {got}", ()
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _describe_bad_tag(kind, ctx, value)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"]), ()
    if kind == "recursion_loop":
        return "refers to itself", ()
    # Anything else: pydantic's own words, lower-cased to read after "path: ".
    message = str(error.get("msg", "is invalid"))
    return message[:1].lower() + message[1:], ()


def _describe_bad_tag(kind: str, ctx: Mapping[str, Any], value: object) -> tuple[str, tuple[str | int, ...]]:
    """An unknown or missing ``kind``, reported at the ``kind`` key itself."""
    key = str(ctx.get("discriminator", "'kind'")).strip("'")
    expected = [tag.strip().strip("'") for tag in str(ctx.get("expected_tags", "")).split(",") if tag.strip()]
    expected = expected or list(SLIDE_KINDS)
    choices = ", ".join(expected)
    if kind == "union_tag_not_found":
        return f"required, one of {choices}", (key,)
    tag = value.get(key) if isinstance(value, Mapping) else ctx.get("tag")
    close = difflib.get_close_matches(tag, expected, n=1) if isinstance(tag, str) else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown {key} {_show(tag)}; {hint}valid kinds are {choices}", (key,)


# ---------------------------------------------------------------------------------
# Schema


def deck_json_schema() -> dict[str, Any]:
    """JSON Schema of a deck file, for editors and `reel schema`."""
    schema = Deck.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "Reel deck"}
