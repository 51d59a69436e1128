"""The look every slide shares: the `Theme`, and the `Background` a slide is drawn on.

Colours are stored normalised to ``"#rrggbb"`` (`engine.specbase.Colour`); fonts and
background images are absolute paths (`engine.specbase.AssetPath`). The renderer reads
them in engine/layout.py (fonts, text options) and engine/raster/background.py.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, model_validator

from .colour import parse_colour
from .specbase import AssetPath, Colour, SpecModel, normalise_colour
from .specbase import fail as _fail
from .specbase import show as _show

__all__ = [
    "DEFAULT_ACCENT",
    "DEFAULT_BACKGROUND",
    "DEFAULT_TEXT_COLOR",
    "DEFAULT_VEIL",
    "Background",
    "BackgroundField",
    "CaptionStyle",
    "Fit",
    "Gradient",
    "Logo",
    "TextAlign",
    "Theme",
]

DEFAULT_BACKGROUND = "#14161b"
DEFAULT_TEXT_COLOR = "#ffffff"
DEFAULT_ACCENT = "#ffb020"

Fit = Literal["cover", "contain"]


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


class Gradient(SpecModel):
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


class Background(SpecModel):
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

    @property
    def can_move(self) -> bool:
        """Whether moving it shows: a flat colour looks the same wherever it is, and
        drifting it only costs frames."""
        return self.color is None


def _background_shorthand(value: object) -> object:
    # "background": "#112233" (or [17, 34, 51]) is a flat colour.
    if isinstance(value, (str, list, tuple)):
        return {"color": normalise_colour(value)}  # an error here points at the shorthand
    return value


BackgroundField = Annotated[Background, BeforeValidator(_background_shorthand, json_schema_input_type=str | Background)]


def _language_tag(value: object) -> object:
    if isinstance(value, str) and not _LANGUAGE_TAG.fullmatch(value):
        _fail(f'language must be a BCP 47 tag such as "ja", "ar" or "zh-Hant", got {_show(value)}')
    return value


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

TextAlign = Literal["auto", "left", "center", "right"]


class CaptionStyle(SpecModel):
    """How burned-in captions look: text `size` (a fraction of the frame's shorter side),
    its `color`, the karaoke `highlight` of the word being said, and a `box` behind the
    text (`box_color` at `box_opacity`) or an `outline` around it; at the `bottom` (or
    `top`) of the platform's safe area, in at most `max_lines` balanced lines."""

    size: float = Field(default=0.055, ge=0.02, le=0.2)
    color: Colour = "#ffffff"
    highlight: Colour = "#ffd400"
    style: Literal["box", "outline"] = "box"
    box_color: Colour = "#000000"
    box_opacity: float = Field(default=0.72, ge=0, le=1)
    position: Literal["bottom", "top"] = "bottom"
    max_lines: int = Field(default=2, ge=1, le=4)


class Logo(SpecModel):
    """A logo or watermark on every slide: an image `file` in one corner of the
    platform's safe area (`position`), its longer side `size` × the frame's shorter
    side, at `opacity` (engine/raster/logo.py). It is part of each slide's picture, so
    it stays put through holds, motion and transitions that keep the frame still."""

    file: AssetPath
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = "top-right"
    size: float = Field(default=0.08, gt=0, le=0.5)
    opacity: float = Field(default=0.9, ge=0, le=1)


class Theme(SpecModel):
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
    where scripts share characters (Japanese vs Chinese Han); `captions` styles
    burned-in captions (`CaptionStyle`); `logo` puts a logo on every slide (`Logo`).
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
    captions: CaptionStyle = Field(default_factory=CaptionStyle)
    logo: Logo | None = None

    @property
    def text_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.text_color)

    @property
    def accent_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.accent)
