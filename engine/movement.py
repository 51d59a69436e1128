"""How slides move: the transition *into* a slide, and the motions *on* it.

`TransitionSpec` names a built-in transition (engine/transitions.py) or a
gl-transitions file (engine/usershader.py); `MotionSpec` switches on Ken Burns, a
staggered build of the text and a background drift (engine/motion.py). Both are
what a deck writes; `engine.spec.Deck` turns them into timings and `SlideMotion`s.
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from .deckfile import limits_of
from .easing import Easing, parse_easing
from .errors import AssetError, SpecError, excerpt
from .files import file_problem
from .motion import PAN_DIRECTIONS, Drift, KenBurns
from .specbase import AssetPath, EasingName, Seconds, SpecModel, TransitionSeconds
from .specbase import context_base_dir as _context_base_dir
from .specbase import fail as _fail
from .specbase import show as _show
from .transitions import BUILTIN, MATTES, resolve_params
from .usershader import RESIZE_KEY, read_user_transition, resolve_user_params, user_transition_key

__all__ = [
    "BuildSpec",
    "DriftSpec",
    "KenBurnsSpec",
    "MotionField",
    "MotionSpec",
    "TransitionField",
    "TransitionSpec",
]


class TransitionSpec(SpecModel):
    """A built-in transition (engine/transitions.py) or a gl-transitions ``file``, its
    length, easing and parameters.

    ``"cut"`` always has duration 0, whatever was written. A file's parameters are its
    uniforms (engine/usershader.py); a ``sampler2D`` parameter takes an image file,
    relative to the deck like every other path.
    """

    name: str = Field(default="fade", json_schema_extra={"enum": list(BUILTIN)})
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
            if file_problem(self.file, limits_of(info.context).max_shader_bytes) is None:
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
        transition = read_user_transition(file, limits_of(info.context).max_shader_bytes)
        resolved = resolve_user_params(transition, params)
    except SpecError as exc:
        _fail(exc.reason, *[part for part in exc.path.split(".") if part])
    except AssetError as exc:
        _fail(str(exc), "file")
    base = _context_base_dir(info.context)
    for name, value in resolved.items():
        if transition.params[name].is_texture:
            resolved[name] = os.path.abspath(base / Path(str(value)).expanduser())
    return resolved


def _transition_shorthand(value: object) -> object:
    # "transition": "wipeleft" is that transition with its default duration.
    return {"name": value} if isinstance(value, str) else value


TransitionField = Annotated[
    TransitionSpec, BeforeValidator(_transition_shorthand, json_schema_input_type=str | TransitionSpec)
]


# ---------------------------------------------------------------------------------
# Motion inside a slide (engine/motion.py)

ZoomFactor = Annotated[float, Field(strict=False, ge=1.0, le=4.0)]


class KenBurnsSpec(SpecModel):
    """A slow zoom from `zoom[0]` to `zoom[1]` across the picture, with an optional camera pan."""

    zoom: Annotated[list[ZoomFactor], Field(min_length=2, max_length=2)] = Field(default_factory=lambda: [1.0, 1.12])
    pan: Literal[tuple(PAN_DIRECTIONS)] = "none"  # type: ignore[valid-type]
    easing: EasingName = "linear"

    def motion(self) -> KenBurns:
        return KenBurns(self.zoom[0], self.zoom[1], self.pan, parse_easing(self.easing))


class BuildSpec(SpecModel):
    """The slide's text items enter one after another over `duration` seconds.

    `delay` counts from the slide's first frame; by default the build starts as the
    transition into the slide ends.
    """

    style: Literal["rise", "fade", "slide"] = "rise"
    duration: Seconds = 1.0
    delay: TransitionSeconds | None = None
    easing: EasingName = "ease-out-cubic"


class DriftSpec(SpecModel):
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


class MotionSpec(SpecModel):
    """Which motions a slide runs; each is an object, `true` (its defaults) or `false`.

    A key left out is not "off": the slide keeps what ``defaults.motion`` says.
    """

    ken_burns: Annotated[KenBurnsSpec | None, BeforeValidator(_switch, json_schema_input_type=bool | KenBurnsSpec)] = (
        None
    )
    build: Annotated[BuildSpec | None, BeforeValidator(_switch, json_schema_input_type=bool | BuildSpec)] = None
    drift: Annotated[DriftSpec | None, BeforeValidator(_switch, json_schema_input_type=bool | DriftSpec)] = None


MotionField = Annotated[MotionSpec, BeforeValidator(_motion_shorthand, json_schema_input_type=bool | MotionSpec)]
