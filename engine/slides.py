"""The kinds of slide a deck holds, and the `Defaults` a slide takes what it leaves out.

Each kind is a model with a literal ``kind`` (title, bullets, image, text, chart);
`Slide` is their union, told apart by that key, and `SLIDE_KINDS` maps each kind to
its model. Every kind has the fields of `_SlideBase`: its time on screen, background,
the transition into it, its motion and voiceover, and its text alignment.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr, WrapValidator, model_validator

from .audio.models import Padding, VoiceoverField
from .charts.model import Chart
from .movement import MotionField, TransitionField, TransitionSpec
from .specbase import MAX_SECONDS, AssetPath, EasingName, Seconds, SpecModel, Text, json_keys
from .specbase import fail as _fail
from .theme import Background, BackgroundField, TextAlign, Theme

__all__ = [
    "MAX_BULLETS",
    "SLIDE_KINDS",
    "BulletsSlide",
    "CaptionCueSpec",
    "CaptionsField",
    "CaptionsSpec",
    "ChartSlide",
    "Defaults",
    "ImageSlide",
    "PictureReveal",
    "Slide",
    "TextSlide",
    "TitleSlide",
    "VideoSlide",
    "slide_background",
]

MAX_BULLETS = 8

# An image slide's picture may also fill the whole frame, edge to edge.
ImageFit = Literal["cover", "contain", "fill"]


class CaptionCueSpec(SpecModel):
    """One caption on a slide: `text` on screen from `start` to `end`, seconds of slide time."""

    text: Text
    start: Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)]
    end: Seconds

    @model_validator(mode="after")
    def _ends_after_start(self) -> CaptionCueSpec:
        if self.end <= self.start:
            _fail(f"a caption ends after it starts ({self.start:g} s), got {self.end:g} s", "end")
        return self


class CaptionsSpec(SpecModel):
    """The deck's captions: a `file` (``.srt`` or ``.vtt``, video time) and/or `words`, a
    JSON list of ``{"word", "start", "end"}`` (video time) that highlights each word as it
    is said (and, without a file, makes the cues). `burn` draws them on the frames,
    `sidecar` writes ``NAME.srt`` and ``NAME.vtt`` beside the video, `soft` adds a
    subtitle track (mov_text) to the MP4. Slides may add their own `captions`.
    ``"from": "narration"`` adds cues from what the slides `say` (their voiceovers'
    text), highlighted word by word as it is spoken."""

    # "from" in a deck; Python cannot name an attribute "from".
    model_config = ConfigDict(populate_by_name=True)

    file: AssetPath | None = None
    words: AssetPath | None = None
    from_: Literal["narration"] | None = Field(default=None, alias="from")
    burn: bool = True
    sidecar: bool = True
    soft: bool = False
    language: Annotated[str, Field(pattern=r"^[a-z]{3}$")] | None = None  # ISO 639-2 of the soft track


def _captions_shorthand(value: object) -> object:
    # "captions": "talk.srt" is {"file": "talk.srt"}.
    return {"file": value} if isinstance(value, str) else value


CaptionsField = Annotated[CaptionsSpec, BeforeValidator(_captions_shorthand, json_schema_input_type=str | CaptionsSpec)]


class Defaults(SpecModel):
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
    WrapValidator(_auto_or_seconds, json_schema_input_type=float | Literal["auto"]),
    PlainSerializer(lambda value: value, return_type=float | str),  # "auto" stays "auto"
]


class _SlideBase(SpecModel):
    """Fields every kind of slide has. `transition` is the one *into* the slide."""

    kind: str  # each kind narrows this to its Literal; declared here so it comes first
    duration: SlideSeconds | None = None
    background: BackgroundField | None = None
    transition: TransitionField | None = None
    motion: MotionField | None = None
    voiceover: VoiceoverField | None = None
    padding: Padding | None = None  # seconds after the voiceover, for "duration": "auto"
    align: TextAlign | None = None  # this slide's text alignment, over the theme's text_align
    captions: list[CaptionCueSpec] | None = None  # slide time

    @model_validator(mode="after")
    def _auto_needs_a_voiceover(self) -> _SlideBase:
        if self.duration == "auto" and self.voiceover is None:
            _fail('"auto" makes the slide as long as its voiceover, and it has none', "duration")
        if self.padding is not None and self.duration != "auto":
            _fail('padding is the time after the voiceover of a slide with "duration": "auto"', "padding")
        return self

    @classmethod
    def _unknown_key_message(cls, key: str) -> str:
        # A key that belongs to another kind of slide is a likelier mistake than a typo.
        if not difflib.get_close_matches(key, json_keys(cls), n=1, cutoff=0.6):
            for kind, other in SLIDE_KINDS.items():
                if key in other.model_fields:
                    this_kind = cls.model_fields["kind"].default
                    return f"unknown key for a {this_kind} slide ({key!r} belongs to kind {kind!r})"
        return super()._unknown_key_message(key)


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


class PictureReveal(SpecModel):
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


ClipSeconds = Annotated[float, Field(ge=0, le=MAX_SECONDS)]


class VideoSlide(_SlideBase):
    """A video clip: `trim` [start, end] seconds of `file` (all of it by default), scaled
    to the frame by `fit` (`fill` stretches it, `cover` crops it, `contain` shows it whole
    on the slide's background), its sound at `volume` in the mix (ducked under
    voiceovers). A slide longer than its clip holds the last frame, or starts the clip
    again with `loop`; `duration` defaults to the trimmed clip's length. The clip is
    opened and its first frame decoded when the deck loads (engine/clips.py): a corrupt
    or unsupported file is an AssetError then, not during the render."""

    kind: Literal["video"] = "video"
    file: AssetPath
    trim: Annotated[list[ClipSeconds], Field(min_length=2, max_length=2)] | None = None
    volume: Annotated[float, Field(ge=0, le=4)] = 1.0
    fit: Literal["fill", "cover", "contain"] = "cover"
    loop: bool = False
    _clip: Any = PrivateAttr(default=None)  # engine.clips.ClipInfo, from the probe

    @model_validator(mode="after")
    def _probe_clip(self) -> VideoSlide:
        from .clips import probe_clip
        from .errors import AssetError

        try:
            info = probe_clip(self.file, "file")
        except AssetError:
            return self  # engine.deckfile.check_files says what is wrong, with the slide's path
        self._clip = info
        start, end = (0.0, info.duration) if self.trim is None else self.trim
        if end <= start:
            _fail(f"a trim ends after it starts ({start:g} s), got {end:g} s", "trim")
        if start >= info.duration:
            _fail(f"the clip is {info.duration:g} s long; the trim starts at {start:g} s", "trim")
        if self.duration is None:
            self.duration = min(end, info.duration) - start
        return self

    @property
    def trimmed(self) -> tuple[float, float]:
        """(start, end) seconds of the file this slide plays."""
        duration = self._clip.duration
        start, end = (0.0, duration) if self.trim is None else self.trim
        return start, min(end, duration)

    @property
    def sounds(self) -> bool:
        """Whether its clip has sound and plays it (a volume over 0)."""
        return bool(self._clip.has_audio) and self.volume > 0

    def sound(self, start: float, seconds: float, where: str = "video"):
        """Its sound in the mix (engine.audio.ClipCue), for a slide that starts `start`
        seconds into the video and shows for `seconds`."""
        from .audio.clip import ClipCue

        trim_start, trim_end = self.trimmed
        return ClipCue(start, self.file, trim_start, trim_end - trim_start, seconds, self.volume, self.loop, where)


Slide = Annotated[
    TitleSlide | BulletsSlide | ImageSlide | TextSlide | ChartSlide | VideoSlide, Field(discriminator="kind")
]

SLIDE_KINDS: dict[str, type[_SlideBase]] = {
    cls.model_fields["kind"].default: cls
    for cls in (TitleSlide, BulletsSlide, ImageSlide, TextSlide, ChartSlide, VideoSlide)
}


def slide_background(slide: Slide, theme: Theme) -> Background:
    """The background `slide` is drawn on: its own, else the theme's."""
    return slide.background if slide.background is not None else theme.background
