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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, model_validator

from .audio.models import DEFAULT_PADDING, AudioSpec, auto_duration
from .captions import Cue, Word, attach_words, cues_from_words, read_caption_file, read_words
from .deckfile import check_files, limits_of, read_deck_file
from .easing import LINEAR, parse_easing
from .errors import AssetError, SpecError
from .limits import InputLimits, check_deck_values
from .motion import Build, Reveal, SlideMotion
from .movement import BuildSpec, DriftSpec, KenBurnsSpec, MotionSpec, TransitionSpec
from .slides import (
    SLIDE_KINDS,
    BulletsSlide,
    CaptionCueSpec,
    CaptionsField,
    CaptionsSpec,
    ChartSlide,
    Defaults,
    ImageSlide,
    PictureReveal,
    Slide,
    TextSlide,
    TitleSlide,
    VideoSlide,
    slide_background,
)
from .specbase import MAX_SECONDS, SpecModel, Text, spec_error
from .specbase import context_base_dir as _context_base_dir
from .specbase import fail as _fail
from .speech import Speech
from .theme import Background, CaptionStyle, Gradient, Theme
from .timeline import SlideTiming

# The deck's models live in engine/theme.py, engine/movement.py and engine/slides.py;
# this module holds the deck itself and re-exports them, so that users and the rest of
# the engine import every model from here.
__all__ = [
    "Background",
    "BuildSpec",
    "BulletsSlide",
    "CaptionCueSpec",
    "CaptionStyle",
    "CaptionsSpec",
    "ChartSlide",
    "CoverSpec",
    "Deck",
    "Defaults",
    "DriftSpec",
    "Gradient",
    "ImageSlide",
    "KenBurnsSpec",
    "MotionSpec",
    "PictureReveal",
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
# Durations are user-typed decimals; "0.1 + 0.2 > 0.3" must not fail a deck.
_SECONDS_SLACK = 1e-9


# Validators raise `_fail` (engine/specbase.py): a pydantic error carrying the message
# verbatim plus an optional sub-path below the value being validated, which `load_deck`
# turns, like every pydantic error, into a SpecError starting with the JSON path.


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _allow_schema_key(schema: dict[str, Any]) -> None:
    # Decks may name their schema for editors; with additionalProperties false, the
    # schema itself must then list the key.
    schema.setdefault("properties", {})["$schema"] = {"type": "string"}


def _cover_shorthand(value: object) -> object:
    # "cover": 3.5 is a moment in seconds; {"slide": 2} the moment slide 2 is complete.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"at": value}
    return value


class CoverSpec(SpecModel):
    """The frame platforms show before the video plays: a moment (`at`), or a slide once complete."""

    at: Annotated[float, Field(strict=True, ge=0, le=MAX_SECONDS)] | None = None
    slide: Annotated[int, Field(strict=True, ge=0)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CoverSpec:
        if (self.at is None) == (self.slide is None):
            _fail("give exactly one of at (seconds) or slide (an index)")
        return self


class Deck(SpecModel):
    """A Reel deck: theme, defaults and slides.

    A slide's transition is the one into it; on the first slide it is ignored.
    """

    model_config = ConfigDict(title="Reel deck", json_schema_extra=_allow_schema_key)
    _ignored_keys: ClassVar[frozenset[str]] = frozenset({"$schema"})

    title: Text | None = None
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)] = 0
    theme: Theme = Field(default_factory=Theme)
    audio: AudioSpec | None = None
    captions: CaptionsField | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    slides: Annotated[list[Slide], Field(min_length=1)]  # at most REEL_MAX_SLIDES, checked by load_deck
    cover: Annotated[CoverSpec | None, BeforeValidator(_cover_shorthand)] = None

    _base_dir: Path = PrivateAttr()
    _source: Path | None = PrivateAttr(default=None)
    _auto_seconds: dict[int, float] = PrivateAttr(default_factory=dict)  # "auto" durations, measured
    _speech: dict[int, Speech] = PrivateAttr(default_factory=dict)  # what slides say, spoken

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
                    motion=self._clip_window(index) or (() if motion is None else motion.windows),
                )
            )
        return timings

    def _clip_window(self, index: int) -> tuple[tuple[float, float], ...]:
        """A video slide's picture changes all the time it shows (engine/clips.py)."""
        return ((0.0, self.slide_duration(index)),) if isinstance(self.slides[index], VideoSlide) else ()

    def audio_plan(self, fps: int):
        """The soundtrack (engine.audio.AudioPlan) of a render at `fps`, or None for a silent deck.

        A voiceover starts on its slide's first frame (plus its delay), so it stays within
        a frame of the picture whatever the rounding of slide starts.
        """
        from .audio import AudioPlan, VoiceoverCue
        from .timeline import build_timeline

        cues = [(i, s.voiceover) for i, s in enumerate(self.slides) if s.voiceover is not None]
        # Text to say plays from its speech's WAV.
        cues = [
            (i, vo if i not in self._speech else vo.model_copy(update={"file": self._speech[i].wav})) for i, vo in cues
        ]
        clips = [(i, s) for i, s in enumerate(self.slides) if isinstance(s, VideoSlide) and s.sounds]
        if self.audio is None and not cues and not clips:
            return None
        timeline = build_timeline(self.timings(), fps)
        return AudioPlan(
            music=self.audio,
            voiceovers=[VoiceoverCue(timeline.first_frame(i) / fps, vo, f"slides[{i}].voiceover") for i, vo in cues],
            duration=timeline.duration,
            clips=[
                s.sound(timeline.first_frame(i) / fps, self.slide_duration(i), f"slides[{i}].file") for i, s in clips
            ],
        )

    def motion(self, index: int) -> SlideMotion | None:
        """What moves on slide `index`, or None for a still slide.

        A slide's own ``motion`` keys override those of ``defaults.motion``; motions
        that cannot apply to the slide are left out (the validator has already refused
        those the slide asked for itself).
        """
        slide = self.slides[index]
        if isinstance(slide, VideoSlide):  # its frames come from the clip
            return None
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
        if drift is not None and (kb is not None or hidden or not slide_background(slide, self.theme).can_move):
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
        index = 0 if self.cover is None or self.cover.slide is None else self.cover.slide
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

    # -- captions ----------------------------------------------------------------

    def caption_cues(self, slide_starts: Sequence[float], duration: float) -> list[Cue]:
        """Every caption of the video in video time, sorted, cut to the video's `duration`:
        the deck's file (or cues grouped from its words), then each slide's own
        (`slide_starts`: engine.timeline.Timeline.slide_starts), each with its words' timings."""
        spec = self.captions
        words = [] if spec is None or spec.words is None else read_words(spec.words)
        cues: list[Cue] = []
        if spec is not None and spec.file is not None:
            cues.extend(read_caption_file(spec.file))
        elif words:
            cues.extend(cues_from_words(words))
        for index, slide in enumerate(self.slides):
            start, length = slide_starts[index], self.slide_duration(index)
            for cue in slide.captions or ():
                if cue.start < length:
                    cues.append(Cue(start + cue.start, start + min(cue.end, length), cue.text))
            if spec is not None and spec.from_ == "narration" and index in self._speech:
                cues.extend(self._narration_cues(index, start, start + length))
        cues = [Cue(c.start, min(c.end, duration), c.text, c.words) for c in cues if c.start < duration]
        if words:
            cues = [cue if cue.words else attach_words([cue], words)[0] for cue in cues]
        return sorted(cues, key=lambda c: (c.start, c.end))

    def narration(self, index: int) -> Speech | None:
        """What slide `index` says, spoken (engine.speech.Speech: its WAV and word timings); None if nothing."""
        return self._speech.get(index)

    def _narration_cues(self, index: int, start: float, end: float) -> list[Cue]:
        # The words said on slide `index`, in video time, grouped into cues that end with the slide.
        voiceover = self.slides[index].voiceover
        offset = start + (0.0 if voiceover is None else voiceover.delay)
        words = [Word(w.text, offset + w.start, offset + w.end) for w in self._speech[index].words]
        return [
            Cue(c.start, min(c.end, end), c.text, tuple((t, s) for t, s in c.words if s < end))
            for c in cues_from_words(words)
            if c.start < end
        ]

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
            ("theme.logo.file", None if self.theme.logo is None else self.theme.logo.file, "logo"),
        ):
            if path is not None:
                found.append((where, path, what))
        if self.audio is not None:
            found.append(("audio.music", self.audio.music, "music"))
        if self.captions is not None:
            if self.captions.file is not None:
                found.append(("captions.file", self.captions.file, "captions"))
            if self.captions.words is not None:
                found.append(("captions.words", self.captions.words, "word timings"))
        for index, slide in enumerate(self.slides):
            if slide.voiceover is not None and slide.voiceover.file is not None:
                found.append((f"slides[{index}].voiceover.file", slide.voiceover.file, "voiceover"))
            if isinstance(slide, ImageSlide):
                found.append((f"slides[{index}].file", slide.file, "image"))
            if isinstance(slide, VideoSlide):
                found.append((f"slides[{index}].file", slide.file, "video clip"))
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
        # or does not decode is an AssetError naming it. Text to say is spoken now (or
        # found in the speech cache): without espeak-ng, an AssetError naming the package.
        from .audio.decode import voiceover_duration

        max_seconds = limits_of(info.context).max_audio_seconds
        for index, slide in enumerate(self.slides):
            if slide.voiceover is not None and slide.voiceover.say is not None:
                self._speech[index] = _spoken(slide.voiceover.say, slide.voiceover.voice, index, max_seconds)
        if self.captions is not None and self.captions.from_ == "narration" and not self._speech:
            _fail(
                'captions "from": "narration" shows what slides say, and no slide has a voiceover with say',
                "captions",
                "from",
            )
        for index, slide in enumerate(self.slides):
            if slide.duration == "auto" and slide.voiceover is not None:  # a slide's own check saw to the voiceover
                where = f"slides[{index}].voiceover"
                if index in self._speech:
                    seconds = self._speech[index].seconds
                elif slide.voiceover.file is not None:
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
            if own is not None and own.drift and not slide_background(slide, self.theme).can_move:
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
                data_chart = isinstance(slide, ChartSlide) and slide.chart is not None
                where = ("chart", "reveal") if data_chart else ("reveal", "duration")
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


def _spoken(text: str, voice: str, index: int, max_seconds: float) -> Speech:
    """Slide `index`'s text spoken (engine/speech.py), or the error that says why not."""
    from .speech import speak

    where = f"slides[{index}].voiceover.say"
    try:
        speech = speak(text, voice, where=where)
    except SpecError as exc:  # a voice the engine does not have
        _fail(str(exc), "slides", index, "voiceover", "voice")
    if speech.seconds > max_seconds:
        raise AssetError(f"{where}: speaks {speech.seconds:.0f} s, past REEL_MAX_AUDIO_SECONDS ({max_seconds:g} s)")
    return speech


def _reveal_asked_for(slide: object) -> bool:
    """Whether a chart slide sets its reveal itself (not only by default)."""
    if not isinstance(slide, ChartSlide):
        return False
    if slide.chart is not None:
        return "reveal" in slide.chart.model_fields_set
    return "reveal" in slide.model_fields_set


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
        data = read_deck_file(deck_file, limits)
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
        raise spec_error(exc, data, SLIDE_KINDS) from exc
    except RecursionError as exc:  # a self-referencing structure from Python code
        raise SpecError("the deck is nested too deeply, or refers to itself") from exc
    check_files(deck.asset_files(), limits)
    return deck


# ---------------------------------------------------------------------------------
# Schema


def deck_json_schema() -> dict[str, Any]:
    """JSON Schema of a deck file, for editors and `reel schema`."""
    schema = Deck.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "Reel deck"}
